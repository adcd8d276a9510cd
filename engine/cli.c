#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "kpieval/generate.h"
#include "kpieval/run.h"
#include "kpieval/score.h"
#include "text.h"

#ifndef KPIEVAL_VERSION
#define KPIEVAL_VERSION "0.1.0"
#endif
#ifndef KPIEVAL_STDLIB_DIR
#define KPIEVAL_STDLIB_DIR "formulas"
#endif

#define FAILURES_SHOWN 20

static const char usage_text[] =
    "usage: kpieval run DATASET --out DIR [options]\n"
    "       kpieval check DATASET [options]\n"
    "       kpieval generate N DIR [--seed S]\n"
    "       kpieval help | version\n"
    "\n"
    "options:\n"
    "  --out DIR             write the reports to DIR (run only)\n"
    "  --period P            evaluate the actuals of period P\n"
    "  --cap N               cap achievements at N percent (default 120)\n"
    "  --grades SPEC         grade bands, default " KPI_DEFAULT_GRADES "\n"
    "  --formulas DIR        more plugin formulas; may repeat, later ones shadow\n"
    "  --max-instructions N  Lua instructions per formula (default 1000000)\n"
    "  --max-memory BYTES    Lua memory per formula, K/M/G suffixes (default 32M)\n"
    "  --time-limit SECONDS  wall time per formula (default 2)\n"
    "  --jobs N              worker processes (default: one per CPU)\n"
    "  --in-process          evaluate without worker processes (debugging only)\n"
    "  --quiet               print only errors\n"
    "\n"
    "exit status: 0 all KPIs ok, 1 some KPIs not ok (reports written),\n"
    "2 usage or input error (nothing written)\n";

struct cli {
    FILE *out, *errs;
    struct kpi_run_options opt;
    const char *formula_dirs[64];
    bool quiet;
};

static int usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    fputs("kpieval: ", c->errs);
    va_start(ap, fmt);
    vfprintf(c->errs, fmt, ap);
    va_end(ap);
    fputs("\n\n", c->errs);
    fputs(usage_text, c->errs);
    return KPI_EXIT_INPUT;
}

/* ---- option values ------------------------------------------------------ */

static bool parse_positive(const char *s, double *out)
{
    return kpi_text_parse_number(s, out) == KPI_NUMBER_OK && *out > 0;
}

static bool all_digits_then(const char *s, const char *suffixes)
{
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return !*s || (s[1] == '\0' && strchr(suffixes, *s));
}

static bool parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!all_digits_then(s, ""))
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0)
        return false;
    *out = v;
    return true;
}

static bool parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!all_digits_then(s, "KkMmGg"))
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024ULL, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024ULL * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024ULL * 1024 * 1024, end++;
    if (errno || *end || v == 0 || v > SIZE_MAX / mult)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

/* Parses options after the subcommand; DATASET is the one operand. */
static int parse_options(struct cli *c, int argc, char **argv, bool allow_out)
{
    struct kpi_error err;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = true;

        if (!strcmp(a, "--quiet")) {
            c->quiet = true;
            takes_value = false;
        } else if (!strcmp(a, "--in-process")) {
            c->opt.in_process = true;
            takes_value = false;
        } else if (a[0] != '-' || !strcmp(a, "-")) {
            if (c->opt.dataset)
                return usage_error(c, "more than one dataset given ('%s')", a);
            c->opt.dataset = a;
            takes_value = false;
        } else if (!v) {
            return usage_error(c, "option '%s' needs a value", a);
        } else if (!strcmp(a, "--out") && allow_out) {
            c->opt.out = v;
        } else if (!strcmp(a, "--period")) {
            c->opt.period = v;
        } else if (!strcmp(a, "--cap")) {
            if (!parse_positive(v, &c->opt.cap))
                return usage_error(c, "--cap '%s': expected a number > 0", v);
        } else if (!strcmp(a, "--grades")) {
            if (kpi_grades_parse(v, &c->opt.grades, &err))
                return usage_error(c, "%s", err.message);
        } else if (!strcmp(a, "--formulas")) {
            if (c->opt.n_formula_dirs == sizeof c->formula_dirs / sizeof c->formula_dirs[0])
                return usage_error(c, "too many --formulas folders (at '%s')", v);
            c->formula_dirs[c->opt.n_formula_dirs++] = v;
        } else if (!strcmp(a, "--max-instructions")) {
            if (!parse_count(v, &c->opt.instruction_limit))
                return usage_error(c, "--max-instructions '%s': expected a whole number > 0", v);
        } else if (!strcmp(a, "--time-limit")) {
            if (!parse_positive(v, &c->opt.time_limit) || c->opt.time_limit > 86400)
                return usage_error(c, "--time-limit '%s': expected seconds, > 0 and <= 86400", v);
        } else if (!strcmp(a, "--jobs")) {
            uint64_t jobs;
            if (!parse_count(v, &jobs) || jobs > 256)
                return usage_error(c, "--jobs '%s': expected a whole number from 1 to 256", v);
            c->opt.jobs = (unsigned)jobs;
        } else if (!strcmp(a, "--max-memory")) {
            if (!parse_bytes(v, &c->opt.memory_limit))
                return usage_error(c, "--max-memory '%s': expected bytes, e.g. 32M", v);
        } else {
            return usage_error(c, "unknown option '%s'", a);
        }
        if (takes_value)
            i++;
    }
    if (!c->opt.dataset)
        return usage_error(c, "%s", "no dataset folder given");
    if (allow_out && !c->opt.out)
        return usage_error(c, "%s", "--out DIR is required");
    return 0;
}

/* ---- printing ----------------------------------------------------------- */

/* Columns a UTF-8 string takes in a terminal: East Asian wide characters
 * (Hangul, CJK) take two. */
static int display_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n;
        if (*p < 0x80)
            cp = *p, n = 1;
        else if ((*p & 0xE0) == 0xC0)
            cp = *p & 0x1F, n = 2;
        else if ((*p & 0xF0) == 0xE0)
            cp = *p & 0x0F, n = 3;
        else
            cp = *p & 0x07, n = 4;
        for (int k = 1; k < n && p[k]; k++)
            cp = (cp << 6) | (p[k] & 0x3F);
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6);
        w += wide ? 2 : 1;
        for (int k = 0; k < n && *p; k++)
            p++;
    }
    return w;
}

static void pad(FILE *f, int n)
{
    while (n-- > 0)
        putc(' ', f);
}

static void print_summary(struct cli *c, const struct kpi_run *run)
{
    size_t n_deps;
    const struct kpi_department *deps = kpi_dataset_departments(run->ds, &n_deps);
    const struct kpi_department_summary *all = &run->overall;
    const char *period = kpi_dataset_period(run->ds);
    char rate[KPI_RATE_BUF];
    int name_w = (int)strlen("department");

    for (size_t d = 0; d < n_deps; d++) {
        int w = 2 * (int)deps[d].depth + display_width(deps[d].name);
        if (w > name_w)
            name_w = w;
    }
    if (name_w > 60)
        name_w = 60;
    fprintf(c->out, "%u KPIs%s%s%s: %u ok, %u missing, %u error, %u invalid\n\n", all->kpis,
            period ? " for period '" : "", period ? period : "", period ? "'" : "",
            all->count[KPI_STATUS_OK], all->count[KPI_STATUS_MISSING],
            all->count[KPI_STATUS_ERROR], all->count[KPI_STATUS_INVALID]);
    fputs("department", c->out);
    pad(c->out, name_w - (int)strlen("department"));
    fputs("   KPIs    ok  not ok  achievement  grade\n", c->out);
    for (size_t d = 0; d <= n_deps; d++) {
        const struct kpi_department_summary *s = d < n_deps ? &run->departments[d] : all;
        const char *label = d < n_deps ? deps[d].name : "(all departments)";
        int indent = d < n_deps ? 2 * (int)deps[d].depth : 0;
        if (d == n_deps)
            putc('\n', c->out);
        pad(c->out, indent);
        fputs(label, c->out);
        pad(c->out, name_w - indent - display_width(label));
        fprintf(c->out, " %6u %5u %7u %12s  %s\n", s->kpis, s->count[KPI_STATUS_OK],
                s->kpis - s->count[KPI_STATUS_OK],
                s->has_achievement ? kpi_text_format_rate(s->achievement, rate) : "-",
                s->has_achievement && *s->grade ? s->grade : "-");
    }
}

static void print_failures(struct cli *c, const struct kpi_run *run)
{
    size_t n, shown = 0, failed = 0;
    const struct kpi_indicator *ks = kpi_dataset_indicators(run->ds, &n);
    struct kpi_result *rows = kpi_results_rows(run->results, &n);

    for (size_t i = 0; i < n; i++) {
        if (rows[i].status == KPI_STATUS_OK)
            continue;
        failed++;
        if (shown++ < FAILURES_SHOWN)
            fprintf(c->errs, "kpieval: %s %s: %s\n", kpi_status_name(rows[i].status), ks[i].id,
                    rows[i].message ? rows[i].message : "");
    }
    if (failed > FAILURES_SHOWN)
        fprintf(c->errs, "kpieval: ... and %zu more KPIs not ok (see kpis.csv)\n",
                failed - FAILURES_SHOWN);
}

static void print_warnings(struct cli *c, const struct kpi_run *run)
{
    size_t n, total;
    const char *const *w = kpi_dataset_warnings(run->ds, &n, &total);
    for (size_t i = 0; i < n && i < FAILURES_SHOWN; i++)
        fprintf(c->errs, "kpieval: warning: %s\n", w[i]);
    if (total > FAILURES_SHOWN)
        fprintf(c->errs, "kpieval: ... and %zu more warnings (see report.json)\n",
                total - FAILURES_SHOWN);
}

/* ---- subcommands -------------------------------------------------------- */

static int evaluate(struct cli *c, int argc, char **argv, bool write)
{
    struct kpi_run run;
    struct kpi_error err = {0, ""};
    char out[4096];
    int rc = parse_options(c, argc, argv, write);

    if (rc)
        return rc;
    if (c->opt.out) {
        /* "out/" and "out" are the same folder; the staging folder must
         * sit beside it, not inside. */
        snprintf(out, sizeof out, "%s", c->opt.out);
        for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
            out[n - 1] = '\0';
        c->opt.out = out;
    }
    kpi_run_init(&run);
    rc = kpi_run_execute(&c->opt, &run, &err);
    if (rc) {
        fprintf(c->errs, "kpieval: error: %s\n", err.message);
        kpi_run_release(&run);
        return KPI_EXIT_INPUT;
    }
    print_warnings(c, &run);
    print_failures(c, &run);
    if (!c->quiet) {
        print_summary(c, &run);
        if (c->opt.out)
            fprintf(c->out,
                    "\nreports: %s/kpis.csv, %s/departments.csv, %s/report.json, "
                    "%s/departments/\n",
                    c->opt.out, c->opt.out, c->opt.out, c->opt.out);
    }
    rc = run.overall.count[KPI_STATUS_OK] == run.overall.kpis ? KPI_EXIT_OK : KPI_EXIT_KPIS;
    kpi_run_release(&run);
    return rc;
}

static int cmd_run(struct cli *c, int argc, char **argv)
{
    return evaluate(c, argc, argv, true);
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
    return evaluate(c, argc, argv, false);
}

/* kpieval generate N DIR [--seed S]: a synthetic plan for benchmarks. */
static int cmd_generate(struct cli *c, int argc, char **argv)
{
    struct kpi_error err;
    const char *operands[2] = {NULL, NULL};
    size_t n_operands = 0;
    uint64_t n = 0, seed = KPI_GENERATE_DEFAULT_SEED;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seed")) {
            if (i + 1 == argc)
                return usage_error(c, "%s", "option '--seed' needs a value");
            if (!parse_count(argv[i + 1], &seed) && strcmp(argv[i + 1], "0"))
                return usage_error(c, "--seed '%s': expected a whole number", argv[i + 1]);
            if (!strcmp(argv[i + 1], "0"))
                seed = 0;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error(c, "unknown option '%s'", argv[i]);
        } else if (n_operands == 2) {
            return usage_error(c, "generate: unexpected '%s'", argv[i]);
        } else {
            operands[n_operands++] = argv[i];
        }
    }
    if (n_operands != 2)
        return usage_error(c, "%s", "generate needs N (the number of KPIs) and a folder");
    if (!parse_count(operands[0], &n) || n > 100000000)
        return usage_error(c, "generate: N '%s': expected a whole number from 1 to 100000000",
                           operands[0]);
    if (kpi_generate((unsigned long)n, seed, operands[1], &err)) {
        fprintf(c->errs, "kpieval: error: %s\n", err.message);
        return KPI_EXIT_INPUT;
    }
    return KPI_EXIT_OK;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs(usage_text, c->out);
    return KPI_EXIT_OK;
}

static int cmd_version(struct cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(c->out, "kpieval %s (%s)\n", KPIEVAL_VERSION, LUA_RELEASE);
    return KPI_EXIT_OK;
}

static const struct {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
} commands[] = {
    {"run", cmd_run},         {"check", cmd_check},       {"generate", cmd_generate},       {"help", cmd_help},
    {"--help", cmd_help},     {"-h", cmd_help},           {"version", cmd_version},
    {"--version", cmd_version},
};

int kpi_cli_main(int argc, char **argv, FILE *out, FILE *errs)
{
    struct cli c = {.out = out, .errs = errs};
    struct kpi_error err;
    const char *stdlib = getenv("KPIEVAL_STDLIB");

    c.opt.cap = KPI_DEFAULT_CAP;
    c.opt.formula_dirs = c.formula_dirs;
    c.opt.stdlib_dir = stdlib && *stdlib ? stdlib : KPIEVAL_STDLIB_DIR;
    kpi_grades_parse(KPI_DEFAULT_GRADES, &c.opt.grades, &err);
    if (argc < 2)
        return usage_error(&c, "%s", "no command given");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(&c, argc, argv);
    }
    return usage_error(&c, "unknown command '%s'", argv[1]);
}
