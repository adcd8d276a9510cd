/*
 * fuzz_formula.c - formula evaluation, scoring, roll-up and the report
 * writers, with the input as a KPI's formula.
 *
 * Input: FORMULA [\0 SCORING [\0 PLUGIN]]. FORMULA (made valid UTF-8 with
 * kpi_text_utf8_repair, as a file would have to be) is the formula of four
 * KPIs F1..F4 with different inputs, directions and scoring rules (missing
 * inputs, a huge input, a negative one, baseline and binary scoring, an
 * extra column); SCORING, when given, is the scoring column of F1 and F2
 * (an expression, or a rule name); PLUGIN, when given, is the dataset's
 * plugin formulas/fz.lua, callable as fz(...). The standard plugins of
 * formulas/ are loaded too. Between the F KPIs sit control KPIs C1..C3
 * whose results are known: whatever a fuzzed formula did, they must still
 * come out right (isolation between KPIs).
 *
 * The dataset is written to this process's scratch folder and evaluated
 * in-process with small limits (200000 instructions, 8 MiB), twice: the
 * second time from a deeper stack, which gives Lua another hash seed, and
 * the results must be identical (determinism). Then every row is scored,
 * the departments rolled up, and kpis.csv and report.json written and read
 * back: valid UTF-8, and kpis.csv readable by our own CSV reader with one
 * row per KPI.
 *
 * Environment: KPIEVAL_FUZZ_VERBOSE=1 prints every result row (to see what
 * an input does); KPIEVAL_FUZZ_DETERMINISM=0 skips the comparison of the
 * two evaluations (to fuzz past a known difference).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "csv_reader.h"
#include "fuzz.h"
#include "kpieval/evaluate.h"
#include "kpieval/report.h"
#include "kpieval/rollup.h"
#include "kpieval/score.h"
#include "text.h"

#ifndef KPIEVAL_SOURCE_DIR
#error "KPIEVAL_SOURCE_DIR must name the source tree (for formulas/)"
#endif

#define INSTRUCTION_LIMIT 200000
#define MEMORY_LIMIT      (8u * 1024 * 1024)
#define CAP               120.0

/* ---- the generated dataset --------------------------------------------- */

/* A CSV field holding s: quoted, quotes doubled. */
static void append_quoted(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t need = *len + 2 * strlen(s) + 3;
    if (need > *cap) {
        *cap = need * 2;
        *buf = realloc(*buf, *cap);
        FUZZ_CHECK(*buf != NULL);
    }
    (*buf)[(*len)++] = '"';
    for (; *s; s++) {
        if (*s == '"')
            (*buf)[(*len)++] = '"';
        (*buf)[(*len)++] = *s;
    }
    (*buf)[(*len)++] = '"';
}

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        FUZZ_CHECK(*buf != NULL);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
}

/* Rows of indicators.csv; "@F" is the fuzzed formula, "@S" the fuzzed
 * scoring column (empty without one). */
static const char *const indicator_rows[][11] = {
    {"id", "name", "department", "unit", "direction", "baseline", "target", "formula", "weight",
     "scoring", "note"},
    {"F1", "퍼즈 1", "본부/과", "%", "increase", "50", "100", "@F", "1", "@S", "메모"},
    {"C1", "control 1", "본부", "%", "increase", "", "10", "a + b", "", "", ""},
    {"F2", "fuzz 2", "본부/과/팀", "명", "decrease", "", "0", "@F", "2", "@S", "a,\"b\""},
    {"C2", "control 2", "본부", "%", "increase", "", "100", "ratio(a, b)", "", "", ""},
    {"F3", "fuzz 3", "기타", "", "increase", "-5", "5", "@F", "0", "baseline", ""},
    {"C3", "control 3", "기타", "", "increase", "", "10",
     "('x'):rep(3):len() + math.max(a, b) + #kpi.id", "", "", ""},
    {"F4", "fuzz 4", "기타", "", "decrease", "10", "5", "@F", "1e9", "binary", ""},
};

/* The known results of the control KPIs. */
static const struct {
    const char *id;
    double actual;
} controls[] = {{"C1", 7}, {"C2", 75}, {"C3", 9}};

static const char actuals_csv[] = "indicator,input,value\n"
                                  "F1,a,3\nF1,b,4\nF1,x,0.5\n"
                                  "C1,a,3\nC1,b,4\n"
                                  "F2,a,-1\nF2,b,1e300\nF2,c,0\n"
                                  "C2,a,3\nC2,b,4\n"
                                  "C3,a,3\nC3,b,4\n"
                                  "F4,a,7\n";

static void write_dataset(const char *dir, const char *formula, const char *scoring,
                          const char *plugin, size_t plugin_len)
{
    char *buf = NULL, path[4200];
    size_t len = 0, cap = 0;

    for (size_t r = 0; r < sizeof indicator_rows / sizeof indicator_rows[0]; r++) {
        for (size_t c = 0; c < 11; c++) {
            const char *cell = indicator_rows[r][c];
            if (c)
                append(&buf, &len, &cap, ",");
            if (!strcmp(cell, "@F"))
                append_quoted(&buf, &len, &cap, formula);
            else if (!strcmp(cell, "@S"))
                append_quoted(&buf, &len, &cap, scoring ? scoring : "");
            else
                append_quoted(&buf, &len, &cap, cell);
        }
        append(&buf, &len, &cap, "\n");
    }
    fuzz_write_file(dir, "indicators.csv", buf, len);
    fuzz_write_file(dir, "actuals.csv", actuals_csv, sizeof actuals_csv - 1);
    free(buf);

    snprintf(path, sizeof path, "%s/formulas", dir);
    if (mkdir(path, 0755) != 0)
        FUZZ_CHECK(errno == EEXIST);
    if (plugin)
        fuzz_write_file(path, "fz.lua", plugin, plugin_len);
    else
        fuzz_remove_file(path, "fz.lua");
}

/* A C string of p[0..n) up to any NUL, made valid UTF-8. */
static char *text_part(const char *p, size_t n)
{
    char *s = strndup(p, n);
    FUZZ_CHECK(s != NULL);
    kpi_text_utf8_repair(s);
    return s;
}

/* ---- evaluation --------------------------------------------------------- */

struct outcome {
    int rc;
    struct kpi_error err;
    kpi_results *res;
};

static void evaluate(const kpi_dataset *ds, const struct kpi_eval_options *opt, struct outcome *out)
{
    memset(out, 0, sizeof *out);
    out->rc = kpi_evaluate(ds, opt, &out->res, &out->err);
}

/* The same from a stack frame 4 KiB deeper: lua_newstate seeds string
 * hashing with, among others, the address of a local variable, so this
 * state hashes strings differently; no result may depend on that. */
static void __attribute__((noinline))
evaluate_deeper(const kpi_dataset *ds, const struct kpi_eval_options *opt, struct outcome *out)
{
    volatile char pad[4096];
    pad[0] = 1;
    evaluate(ds, opt, out);
    pad[sizeof pad - 1] = pad[0];
}

/* With KPIEVAL_FUZZ_VERBOSE set, every row of an outcome on stderr. */
static void print_outcome(const char *what, const kpi_dataset *ds, const struct outcome *o)
{
    size_t n, n_k;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_k);
    const struct kpi_result *rows;

    if (!getenv("KPIEVAL_FUZZ_VERBOSE"))
        return;
    if (o->rc) {
        fprintf(stderr, "%s: kpi_evaluate failed: %s\n", what, o->err.message);
        return;
    }
    rows = kpi_results_rows(o->res, &n);
    for (size_t i = 0; i < n && i < n_k; i++)
        fprintf(stderr, "%s: %s %s actual=%.17g%s score=%.17g%s message=%s\n", what, ks[i].id,
                kpi_status_name(rows[i].status), rows[i].actual, rows[i].has_actual ? "" : "(none)",
                rows[i].score_value, rows[i].has_score_value ? "" : "(none)",
                rows[i].message ? rows[i].message : "(none)");
}

static bool mentions_time_limit(const struct outcome *o)
{
    size_t n;
    const struct kpi_result *rows;
    if (!o->res)
        return false;
    rows = kpi_results_rows(o->res, &n);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].message && strstr(rows[i].message, "time limit"))
            return true;
    }
    return false;
}

static void check_same_outcome(const struct outcome *a, const struct outcome *b)
{
    size_t na, nb;
    const struct kpi_result *ra, *rb;

    /* A wall-clock limit is not deterministic. KPIEVAL_FUZZ_DETERMINISM=0
     * turns the comparison off (to fuzz past a known difference). */
    const char *env = getenv("KPIEVAL_FUZZ_DETERMINISM");
    if ((env && !strcmp(env, "0")) || mentions_time_limit(a) || mentions_time_limit(b))
        return;
    FUZZ_CHECK(a->rc == b->rc);
    if (a->rc) {
        FUZZ_CHECK(!strcmp(a->err.message, b->err.message));
        return;
    }
    ra = kpi_results_rows(a->res, &na);
    rb = kpi_results_rows(b->res, &nb);
    FUZZ_CHECK(na == nb);
    for (size_t i = 0; i < na; i++) {
        bool same = ra[i].status == rb[i].status && ra[i].has_actual == rb[i].has_actual &&
                    (!ra[i].has_actual || !memcmp(&ra[i].actual, &rb[i].actual, sizeof(double))) &&
                    ra[i].has_score_value == rb[i].has_score_value &&
                    (!ra[i].has_score_value ||
                     !memcmp(&ra[i].score_value, &rb[i].score_value, sizeof(double))) &&
                    !ra[i].message == !rb[i].message &&
                    (!ra[i].message || !strcmp(ra[i].message, rb[i].message));
        if (!same) {
            fprintf(stderr,
                    "row %zu differs between two evaluations of the same dataset:\n"
                    "  first:  %s actual=%.17g message=%s\n"
                    "  second: %s actual=%.17g message=%s\n",
                    i, kpi_status_name(ra[i].status), ra[i].actual,
                    ra[i].message ? ra[i].message : "(none)", kpi_status_name(rb[i].status),
                    rb[i].actual, rb[i].message ? rb[i].message : "(none)");
        }
        FUZZ_CHECK(same); /* results must not depend on Lua's hash seed */
    }
}

static void check_rows(const kpi_dataset *ds, const struct kpi_result *rows, size_t n)
{
    size_t n_k;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_k);

    FUZZ_CHECK(n == n_k);
    for (size_t i = 0; i < n; i++) {
        const struct kpi_result *r = &rows[i];
        FUZZ_CHECK(r->status == KPI_STATUS_OK || r->status == KPI_STATUS_MISSING ||
                   r->status == KPI_STATUS_ERROR || r->status == KPI_STATUS_INVALID);
        FUZZ_CHECK(!r->has_actual || isfinite(r->actual));
        FUZZ_CHECK(!r->has_score_value || isfinite(r->score_value));
        if (r->status == KPI_STATUS_OK) {
            FUZZ_CHECK(r->has_actual);
            FUZZ_CHECK(r->message == NULL);
            FUZZ_CHECK(ks[i].scoring != KPI_SCORING_EXPRESSION || r->has_score_value);
        } else {
            FUZZ_CHECK(r->message != NULL && r->message[0] != '\0');
            FUZZ_CHECK(fuzz_utf8_valid(r->message, strlen(r->message)));
            FUZZ_CHECK(strlen(r->message) < FUZZ_MESSAGE_MAX);
        }
    }
    for (size_t c = 0; c < sizeof controls / sizeof controls[0]; c++) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ks[i].id, controls[c].id))
                continue;
            if (rows[i].status != KPI_STATUS_OK || rows[i].actual != controls[c].actual)
                fprintf(stderr, "control %s: status %s, actual %g, message %s\n", ks[i].id,
                        kpi_status_name(rows[i].status), rows[i].actual,
                        rows[i].message ? rows[i].message : "(none)");
            FUZZ_CHECK(rows[i].status == KPI_STATUS_OK);
            FUZZ_CHECK(rows[i].actual == controls[c].actual);
        }
    }
}

static void score_and_roll_up(const kpi_dataset *ds, struct kpi_result *rows, size_t n,
                              struct kpi_department_summary **deps_out,
                              struct kpi_department_summary *overall, struct kpi_grades *grades)
{
    size_t n_k, n_d;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_k);
    struct kpi_error err = {0};
    struct kpi_department_summary *deps;

    for (size_t i = 0; i < n; i++) {
        kpi_score(&ks[i], &rows[i], CAP);
        if (rows[i].status == KPI_STATUS_OK) {
            FUZZ_CHECK(isfinite(rows[i].achievement));
            FUZZ_CHECK(fabs(rows[i].achievement) <= KPI_ACHIEVEMENT_MAX);
            FUZZ_CHECK(rows[i].achievement_capped <= CAP);
            FUZZ_CHECK(rows[i].achievement_capped ==
                       (rows[i].achievement < CAP ? rows[i].achievement : CAP));
            FUZZ_CHECK(ks[i].scoring == KPI_SCORING_EXPRESSION || rows[i].achievement >= 0);
        } else {
            FUZZ_CHECK(rows[i].message != NULL);
        }
    }
    FUZZ_CHECK(kpi_grades_parse(KPI_DEFAULT_GRADES, grades, &err) == 0);
    kpi_dataset_departments(ds, &n_d);
    deps = calloc(n_d, sizeof *deps);
    FUZZ_CHECK(deps != NULL);
    kpi_rollup(ds, rows, grades, deps, overall);
    for (size_t i = 0; i < n_d; i++) {
        FUZZ_CHECK(deps[i].grade != NULL);
        FUZZ_CHECK(!deps[i].has_achievement || isfinite(deps[i].achievement));
        /* Bounded terms: under the default policy (unscored KPIs count
         * as 0) a department with any KPI of weight > 0 has a figure. */
        FUZZ_CHECK(deps[i].has_achievement ==
                   (deps[i].weight + deps[i].unscored_weight > 0));
        FUZZ_CHECK(!deps[i].has_coverage ||
                   (deps[i].coverage >= 0 && deps[i].coverage <= 1));
    }
    FUZZ_CHECK(overall->kpis == n);
    *deps_out = deps;
}

/* ---- the reports -------------------------------------------------------- */

struct kpis_csv_state {
    const kpi_dataset *ds;
    const struct kpi_result *rows;
    size_t n;
};

static int on_kpis_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct kpis_csv_state *st = ctx;
    size_t n_k;
    const struct kpi_indicator *ks = kpi_dataset_indicators(st->ds, &n_k);
    (void)err;

    /* The columns of formats.md, then the extra column "note". */
    FUZZ_CHECK(row->nfields == 17);
    if (row->index == 0) {
        FUZZ_CHECK(!strcmp(row->fields[0], "id") && !strcmp(row->fields[15], "message") &&
                   !strcmp(row->fields[16], "note"));
        return 0;
    }
    FUZZ_CHECK(row->index <= st->n);
    const struct kpi_result *r = &st->rows[row->index - 1];
    FUZZ_CHECK(!strcmp(row->fields[0], ks[row->index - 1].id));
    FUZZ_CHECK(!strcmp(row->fields[14], kpi_status_name(r->status)));
    /* The cell holds the message's visible form (text.h). The reader trims
     * spaces around a field; the writer does not quote them, so compare
     * trimmed. */
    const char *message = r->message ? r->message : "";
    size_t ml = kpi_text_visible(message, NULL, 0);
    char *visible = malloc(ml + 1);
    FUZZ_CHECK(visible != NULL);
    FUZZ_CHECK(kpi_text_visible(message, visible, ml + 1) == ml);
    const char *m = visible;
    while (*m == ' ' || *m == '\t')
        m++, ml--;
    while (ml && (m[ml - 1] == ' ' || m[ml - 1] == '\t'))
        ml--;
    /* A message a spreadsheet would run as a formula has an apostrophe
     * in front (write_csv.c). */
    const char *got = row->fields[15];
    if (*got == '\'' && ml && strchr("=+-@", *m))
        got++;
    FUZZ_CHECK(strlen(got) == ml && !memcmp(got, m, ml));
    free(visible);
    return 0;
}

static void write_and_check_reports(const char *dir, const kpi_dataset *ds,
                                    const struct kpi_result *rows, size_t n,
                                    const struct kpi_department_summary *deps,
                                    const struct kpi_department_summary *overall,
                                    const struct kpi_grades *grades, const char *const *plugins)
{
    char out[4200], path[4300];
    struct kpi_report_params params = {
        .dataset = dir,
        .period = kpi_dataset_period(ds),
        .cap = CAP,
        .grades = grades,
        .plugin_dirs = plugins,
        .n_plugin_dirs = 2,
        .instruction_limit = INSTRUCTION_LIMIT,
        .memory_limit = MEMORY_LIMIT,
    };
    struct kpi_report rep;
    kpi_report_init(&rep, ds, rows, deps, overall, &params);

    snprintf(out, sizeof out, "%s/out", dir);
    if (mkdir(out, 0755) != 0)
        FUZZ_CHECK(errno == EEXIST);
    for (size_t i = 0; i < kpi_report_sinks(); i++) {
        const struct kpi_sink *w = kpi_report_sink(i);
        struct kpi_error err = {0};
        void *state;
        char *text;
        size_t len;

        if (strcmp(w->name, "kpis.csv") && strcmp(w->name, "report.json"))
            continue;
        FUZZ_CHECK(w->prepare(w, &rep, out, &state, &err) == 0);
        FUZZ_CHECK(w->write(&rep, state, &err) == 0);
        FUZZ_CHECK(w->commit(state, &err) == 0);
        snprintf(path, sizeof path, "%s/%s", out, w->name);
        text = fuzz_read_file(path, &len);
        FUZZ_CHECK(fuzz_utf8_valid(text, len));
        FUZZ_CHECK(memchr(text, '\0', len) == NULL);
        if (!strcmp(w->name, "kpis.csv")) {
            struct kpis_csv_state st = {ds, rows, n};
            FUZZ_CHECK(kpi_csv_read_buffer(text, len, "kpis.csv", KPI_ENCODING_UTF8, on_kpis_row, &st, &err) == 0);
        } else {
            FUZZ_CHECK(len >= 2 && text[0] == '{' && text[len - 2] == '}' && text[len - 1] == '\n');
        }
        free(text);
    }
}

/* ---- the target --------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *end = in + size;
    const char *dir = fuzz_scratch_dir();
    const char *nul1 = memchr(in, '\0', size), *nul2 = NULL;
    char *formula, *scoring = NULL, plugin_dir[4200];
    const char *plugin = NULL;
    size_t plugin_len = 0;
    const char *plugins[2] = {KPIEVAL_SOURCE_DIR "/formulas", plugin_dir};
    kpi_dataset *ds = NULL;
    struct kpi_error err = {0};
    struct outcome one, two;

    formula = text_part(in, size);
    if (nul1) {
        nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
        scoring = text_part(nul1 + 1, (size_t)(end - nul1 - 1));
        if (nul2) {
            plugin = nul2 + 1;
            plugin_len = (size_t)(end - plugin);
        }
    }
    write_dataset(dir, formula, scoring, plugin, plugin_len);
    snprintf(plugin_dir, sizeof plugin_dir, "%s/formulas", dir);

    /* The generated files are always loadable. */
    if (kpi_dataset_load(dir, NULL, &ds, &err) != 0) {
        fprintf(stderr, "fuzz_formula: generated dataset does not load: %s\n", err.message);
        FUZZ_CHECK(!"the generated dataset loads");
    }
    fuzz_check_dataset(ds);

    struct kpi_eval_options opt;
    memset(&opt, 0, sizeof opt);
    opt.plugin_dirs = plugins;
    opt.n_plugin_dirs = 2;
    opt.instruction_limit = INSTRUCTION_LIMIT;
    opt.memory_limit = MEMORY_LIMIT;
    /* In this process, so sanitizers and libFuzzer see everything; no
     * workers, so no watchdog either: a C call the hook cannot stop (a
     * pathological pattern) shows up as a libFuzzer timeout. */
    opt.in_process = true;
    opt.jobs = 1;

    evaluate(ds, &opt, &one);
    evaluate_deeper(ds, &opt, &two);
    print_outcome("first", ds, &one);
    print_outcome("second", ds, &two);
    check_same_outcome(&one, &two);

    if (one.rc == 0) {
        size_t n;
        struct kpi_result *rows = kpi_results_rows(one.res, &n);
        struct kpi_department_summary *deps = NULL, overall;
        struct kpi_grades grades = {.unscored = KPI_UNSCORED_ZERO};

        check_rows(ds, rows, n);
        score_and_roll_up(ds, rows, n, &deps, &overall, &grades);
        write_and_check_reports(dir, ds, rows, n, deps, &overall, &grades, plugins);
        free(deps);
    } else {
        /* Only a plugin can fail the whole evaluation. */
        FUZZ_CHECK(plugin != NULL);
        FUZZ_CHECK(one.rc == KPI_EPLUGIN && one.err.code == KPI_EPLUGIN);
        FUZZ_CHECK(one.err.message[0] != '\0');
    }

    kpi_results_free(one.res);
    kpi_results_free(two.res);
    kpi_dataset_free(ds);
    free(formula);
    free(scoring);
    return 0;
}
