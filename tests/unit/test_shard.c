/* Unit tests of engine/shard.c: a partial report's model (shard.txt),
 * written by a sharded run, and kpi_report_merge(), which must give the
 * report of one whole run byte for byte, and refuse parts that are not
 * every shard of one run, or whose model was cut or changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/report.h"
#include "kpieval/run.h"
#include "scratch.h"

#define SHARDS 3
#define WIDE (1024 - 5) /* extra columns */

static char tmp[SCRATCH_PATH_MAX];
static char dataset_dir[SCRATCH_PATH_MAX];
static char whole[SCRATCH_PATH_MAX];
static char parts[SHARDS][SCRATCH_PATH_MAX];

/* Six top-level departments, Korean names, an extra column with a tab and
 * a line break in it, unreadable cells, every status, and formulas and
 * messages holding tabs, newlines, backslashes and control bytes. */
static const char indicators[] =
    "id,name,department,unit,direction,baseline,target,formula,weight,scoring,owner\n"
    /* 650 / 1000 * 100 = 65; 65 / 65 = 100 % */
    "K01,취업률,경제진흥본부/경제정책과,%,,,65,employed / eligible * 100,2,,김철수\n"
    /* decrease: 5 / 4 * 100 = 125 %, capped 120 */
    "K02,\"two\ttab\",경제진흥본부,명,decrease,10,5,x,,,\"line\nbreak\"\n"
    /* an error whose message holds \1, a tab, a backslash, a newline */
    "K03,셋,문화본부,,,,10,\"error('a\\1b\\tc\\\\d\\ne')\",,,\n"
    /* invalid: unreadable direction, target and weight */
    "K04,넷,문화본부/박물관과,,up,,ten,x,heavy,,\n"
    /* missing: no input y */
    "K05,다섯,복지본부,,,,10,y,,,\\back\\slash\n"
    /* a literal tab, a control byte and a newline in the formula:
     * 10 + 0 + 2 = 12; 12 / 20 = 60 % */
    "K06,여섯,안전본부,,,,20,\"x\t+ 0 -- c\x01omment\n+ y\",,,\n"
    /* expression rule: 4 / 8 * 50 = 25 % */
    "K07,일곱,안전본부/재난과,,,,8,x,,actual / target * 50,\n"
    /* baseline rule: (50 - 0) / (100 - 0) = 50 %, weight 0.5 */
    "K08,여덟,교통본부,,,0,100,x,0.5,baseline,\x1b[31m\n"
    /* 3 / 4 = 75 % */
    "K09,아홉,기획조정실,,,,4,x,,,\n";

static const char actuals[] = "indicator,input,value\n"
                              "K01,employed,650\nK01,eligible,1000\n"
                              "K02,x,4\nK04,x,1\nK06,x,10\nK06,y,2\n"
                              "K07,x,4\nK08,x,50\nK09,x,3\n";

static void options(struct kpi_run_options *opt, const char *dataset, const char *out)
{
    struct kpi_error err = {0};
    memset(opt, 0, sizeof *opt);
    opt->dataset = dataset;
    opt->out = out;
    opt->cap = 120;
    opt->in_process = true;
    if (kpi_grades_parse(KPI_DEFAULT_GRADES, &opt->grades, &err) != 0)
        fail_msg("grades: %s", err.message);
}

static void run_or_fail(struct kpi_run_options *opt)
{
    struct kpi_run run;
    struct kpi_error err = {0};
    kpi_run_init(&run);
    if (kpi_run_execute(opt, &run, &err) != 0)
        fail_msg("run %s (shard %u/%u): %s", opt->out, opt->shard_index, opt->shard_count,
                 err.message);
    kpi_run_release(&run);
}

/* The whole run and its three parts, once for every test. */
static int setup(void **state)
{
    struct kpi_run_options opt;
    (void)state;
    scratch_fresh_dir(tmp, "shard");
    scratch_dataset(dataset_dir, tmp, "dataset", indicators, actuals);
    options(&opt, dataset_dir, scratch_join(whole, tmp, "whole"));
    run_or_fail(&opt);
    for (unsigned i = 0; i < SHARDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "part%u", i + 1);
        options(&opt, dataset_dir, scratch_join(parts[i], tmp, name));
        opt.shard_index = i + 1;
        opt.shard_count = SHARDS;
        run_or_fail(&opt);
    }
    return 0;
}

static char *read_in(const char *dir, const char *name)
{
    char path[SCRATCH_PATH_MAX];
    char *t = scratch_read(scratch_join(path, dir, name));
    if (!t)
        fail_msg("cannot read %s", path);
    return t;
}

static void assert_same_file(const char *a_dir, const char *b_dir, const char *name)
{
    char *a = read_in(a_dir, name), *b = read_in(b_dir, name);
    if (strcmp(a, b))
        fail_msg("%s differs between %s and %s", name, a_dir, b_dir);
    free(a);
    free(b);
}

static int merge(const char *out, const char *const *dirs, size_t n, struct kpi_error *err)
{
    struct kpi_grades grades;
    struct kpi_department_summary overall;
    return kpi_report_merge(out, dirs, n, NULL, &grades, &overall, err);
}

/* ---- merging ------------------------------------------------------------ */

static void test_shard_merge_equals_the_whole_run(void **state)
{
    char out[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    /* In another order than the shards': merge sorts them. */
    const char *dirs[SHARDS] = {parts[2], parts[0], parts[1]};
    (void)state;

    scratch_join(out, tmp, "merged");
    if (merge(out, dirs, SHARDS, &err) != 0)
        fail_msg("merge: %s", err.message);
    assert_same_file(whole, out, "kpis.csv");
    assert_same_file(whole, out, "departments.csv");
    assert_same_file(whole, out, "report.json");
    /* No part holds the model of a whole run; the merged report neither. */
    char path[SCRATCH_PATH_MAX];
    assert_false(scratch_exists(scratch_join(path, out, "shard.txt")));

    /* Spot checks of the rows, worked out by hand beside the dataset. */
    char *kpis = read_in(whole, "kpis.csv");
    assert_contains(kpis, "\nK01,취업률,경제진흥본부/경제정책과,%,increase,,65,"
                          "employed / eligible * 100,employed=650; eligible=1000,65,100.00,"
                          "100.00,met,2,ok,,김철수\n");
    assert_contains(kpis, ",x=4,4,125.00,120.00,exceeded,1,ok,,line\\x0abreak\n");
    assert_contains(kpis, "\nK06,여섯,안전본부,");
    assert_contains(kpis, ",x=10; y=2,12,60.00,60.00,below,1,ok,,\n");
    assert_contains(kpis, "\nK07,일곱,안전본부/재난과,,increase,,8,x,x=4,4,25.00,25.00,below,1,ok,,\n");
    assert_contains(kpis, "\nK08,여덟,교통본부,,increase,0,100,x,x=50,50,50.00,50.00,below,0.5,ok,,"
                          "\\x1b[31m\n");
    assert_contains(kpis, "\nK04,넷,문화본부/박물관과,,up,,ten,x,x=1,,,,error,heavy,invalid,");
    assert_contains(kpis, ",missing,");
    assert_contains(kpis, ",error,");
    free(kpis);
}

/* Every shard's model is written with its text escaped: one line per
 * record, fields split only at the tabs kpieval put there. The formula
 * error('a\1b\tc\\d\ne') as written in indicators.csv holds backslashes,
 * each written as two. */
static void test_shard_model_escapes_text(void **state)
{
    bool found_formula = false, found_tab_formula = false, found_extra = false;
    (void)state;
    for (unsigned i = 0; i < SHARDS; i++) {
        char *model = read_in(parts[i], "shard.txt");
        assert_starts_with(model, "kpieval-shard 4\nshard\t");
        for (const unsigned char *p = (const unsigned char *)model; *p; p++)
            if (*p < 0x20 && *p != '\t' && *p != '\n')
                fail_msg("part %u: raw control byte 0x%02x in the model", i + 1, *p);
        if (strstr(model, "\terror('a\\\\1b\\\\tc\\\\\\\\d\\\\ne')\t"))
            found_formula = true;
        /* The formula of K06: a tab, 0x01 and a newline, escaped. */
        if (strstr(model, "\tx\\t+ 0 -- c\\x01omment\\n+ y\t"))
            found_tab_formula = true;
        if (strstr(model, "\tline\\nbreak\n") || strstr(model, "\tline\\nbreak\t"))
            found_extra = true;
        free(model);
    }
    assert_true(found_formula);
    assert_true(found_tab_formula);
    assert_true(found_extra);
}

/* ---- refusals ----------------------------------------------------------- */

static void assert_refused(const char *name, const char *const *dirs, size_t n,
                           const char *names_this)
{
    char out[SCRATCH_PATH_MAX], out_name[64];
    struct kpi_error err = {0};
    snprintf(out_name, sizeof out_name, "merged-%s", name);
    int rc = merge(scratch_join(out, tmp, out_name), dirs, n, &err);
    if (rc != KPI_EINPUT)
        fail_msg("%s: merge returned %d (%s), expected KPI_EINPUT", name, rc, err.message);
    if (names_this)
        assert_contains(err.message, names_this);
    /* Nothing written, no lock left. */
    assert_false(scratch_exists(out));
    char lock[SCRATCH_PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s.lock", out);
    assert_false(scratch_exists(lock));
}

static void test_shard_merge_refuses_a_missing_or_repeated_shard(void **state)
{
    (void)state;
    const char *two[] = {parts[0], parts[2]};
    assert_refused("missing", two, 2, NULL);
    const char *twice[] = {parts[0], parts[1], parts[2], parts[1]};
    assert_refused("twice", twice, 4, parts[1]);
    const char *only_twice[] = {parts[0], parts[0]};
    assert_refused("only-twice", only_twice, 2, parts[0]);
    /* A folder that is no part at all. */
    const char *not_part[] = {parts[0], parts[1], whole};
    assert_refused("not-part", not_part, 3, whole);
}

static void test_shard_merge_refuses_parts_of_different_runs(void **state)
{
    char other[SCRATCH_PATH_MAX];
    struct kpi_run_options opt;
    (void)state;
    /* Shard 2 of a run with another cap. */
    options(&opt, dataset_dir, scratch_join(other, tmp, "other-part2"));
    opt.cap = 150;
    opt.shard_index = 2;
    opt.shard_count = SHARDS;
    run_or_fail(&opt);
    const char *dirs[] = {parts[0], other, parts[2]};
    assert_refused("other-run", dirs, 3, other);
    /* Shard 2 of 2 is no shard of 3. */
    options(&opt, dataset_dir, scratch_join(other, tmp, "other-count"));
    opt.shard_index = 2;
    opt.shard_count = 2;
    run_or_fail(&opt);
    const char *counts[] = {parts[0], other, parts[2]};
    assert_refused("other-count", counts, 3, NULL);
}

/* A copy of part 1 with its model replaced by text. */
static const char *doctored(const char *name, const char *model, size_t len)
{
    static char dir[SHARDS][SCRATCH_PATH_MAX];
    static unsigned next;
    char *d = dir[next++ % SHARDS], path[SCRATCH_PATH_MAX];
    scratch_fresh_subdir(d, tmp, name);
    scratch_write_bytes(scratch_join(path, d, "shard.txt"), model, len);
    return d;
}

/* FNV-1a 64 over bytes: offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3 (written here from the definition, not from shard.c). */
static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* model with its "end" line made again for what comes before it. */
static char *resummed(const char *model)
{
    const char *end = strstr(model, "\nend\t");
    assert_non_null(end);
    size_t body = (size_t)(end - model) + 1;
    char *out = malloc(body + 32);
    assert_non_null(out);
    memcpy(out, model, body);
    snprintf(out + body, 32, "end\t%016" PRIx64 "\n", fnv1a(model, body));
    return out;
}

/* model with field `field` (0: the tag) of the first line starting with
 * "kpi\t" and holding `id` replaced by value. */
static char *with_field(const char *model, const char *id, size_t field, const char *value)
{
    char key[32];
    snprintf(key, sizeof key, "\t%s\t", id);
    const char *line = model;
    while ((line = strstr(line, "\nkpi\t"))) {
        line++;
        const char *eol = strchr(line, '\n');
        const char *k = strstr(line, key);
        if (k && k < eol)
            break;
    }
    assert_non_null(line);
    const char *start = line;
    for (size_t f = 0; f < field; f++) {
        start = strchr(start, '\t');
        assert_non_null(start);
        start++;
    }
    const char *stop = start + strcspn(start, "\t\n");
    size_t n = strlen(model) + strlen(value) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(start - model), model, value, stop);
    return out;
}

/* Part 1 through 3 with parts[which] replaced by dir. */
static void assert_part_refused(const char *name, unsigned which, const char *dir)
{
    const char *dirs[SHARDS];
    for (unsigned i = 0; i < SHARDS; i++)
        dirs[i] = i == which ? dir : parts[i];
    assert_refused(name, dirs, SHARDS, NULL);
}

/* The part that holds KPI id: its index, and its model. */
static unsigned part_of(const char *id, char **model)
{
    char key[32];
    snprintf(key, sizeof key, "\t%s\t", id);
    for (unsigned i = 0; i < SHARDS; i++) {
        char *text = read_in(parts[i], "shard.txt");
        if (strstr(text, key)) {
            *model = text;
            return i;
        }
        free(text);
    }
    *model = NULL;
    fail_msg("no part holds %s", id);
    return 0;
}

static void test_shard_merge_refuses_a_changed_model(void **state)
{
    char *model;
    unsigned which = part_of("K01", &model);
    size_t len = strlen(model);
    (void)state;

    /* Cut short: without its end line, and in the middle of a line. */
    const char *end = strstr(model, "\nend\t");
    assert_non_null(end);
    assert_part_refused("cut-end", which, doctored("cut-end", model, (size_t)(end - model) + 1));
    assert_part_refused("cut-mid", which, doctored("cut-mid", model, len / 2));
    assert_part_refused("empty", which, doctored("empty", model, 0));

    /* One byte changed: K01's achievement 100 made 900. */
    char *changed = with_field(model, "K01", 21, "900");
    assert_int_equal(strlen(changed), len);
    assert_part_refused("one-byte", which, doctored("one-byte", changed, len));
    free(changed);

    /* The sum made again for a change a run could have made: accepted, so
     * the refusals below are for the values, not the sum. 100 made 90. */
    char *plain = with_field(model, "K01", 21, "90");
    char *ok = resummed(plain);
    const char *dirs[SHARDS];
    for (unsigned i = 0; i < SHARDS; i++)
        dirs[i] = i == which ? doctored("resummed", ok, strlen(ok)) : parts[i];
    char out[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    if (merge(scratch_join(out, tmp, "resummed-out"), dirs, SHARDS, &err) != 0)
        fail_msg("a model with its sum made again: %s", err.message);
    char *kpis = read_in(out, "kpis.csv");
    assert_contains(kpis, ",65,90.00,100.00,below,2,ok,,김철수\n");
    free(kpis);
    free(plain);
    free(ok);

    /* An achievement no run can make, with a right sum. */
    plain = with_field(model, "K01", 21, "1e308");
    ok = resummed(plain);
    assert_part_refused("huge", which, doctored("huge", ok, strlen(ok)));
    free(plain);
    free(ok);
    plain = with_field(model, "K01", 22, "-1e308");
    ok = resummed(plain);
    assert_part_refused("huge-capped", which, doctored("huge-capped", ok, strlen(ok)));
    free(plain);
    free(ok);
    /* A status past the last one (ok, missing, error, invalid: 0..3). */
    plain = with_field(model, "K01", 19, "7");
    ok = resummed(plain);
    assert_part_refused("status", which, doctored("status", ok, strlen(ok)));
    free(plain);
    free(ok);
    plain = with_field(model, "K01", 19, "4");
    ok = resummed(plain);
    assert_part_refused("status-count", which, doctored("status-count", ok, strlen(ok)));
    free(plain);
    free(ok);
    free(model);
}

/* A dataset with as many extra columns as a CSV row may hold
 * (KPI_CSV_FIELDS_MAX = 1024 fields, 5 of them required): its parts merge
 * like any other. (The model reader split a line into at most 64 fields,
 * so parts of a dataset with 40 extra columns or more were refused.) */
static void test_shard_merge_many_extra_columns(void **state)
{
    char ds[SCRATCH_PATH_MAX], w[SCRATCH_PATH_MAX], p[2][SCRATCH_PATH_MAX];
    char out[SCRATCH_PATH_MAX];
    static char ind[65536];
    struct kpi_run_options opt;
    struct kpi_error err = {0};
    size_t o;
    (void)state;

    o = (size_t)snprintf(ind, sizeof ind, "id,name,department,target,formula");
    for (int c = 0; c < WIDE; c++)
        o += (size_t)snprintf(ind + o, sizeof ind - o, ",c%d", c);
    o += (size_t)snprintf(ind + o, sizeof ind - o, "\n");
    for (int k = 0; k < 4; k++) {
        o += (size_t)snprintf(ind + o, sizeof ind - o, "K%d,n,D%d,10,x", k, k);
        for (int c = 0; c < WIDE; c++)
            o += (size_t)snprintf(ind + o, sizeof ind - o, ",v%d", c);
        o += (size_t)snprintf(ind + o, sizeof ind - o, "\n");
    }
    assert_true(o < sizeof ind);
    scratch_dataset(ds, tmp, "wide", ind, "indicator,input,value\nK0,x,5\nK1,x,10\n");
    options(&opt, ds, scratch_join(w, tmp, "wide-whole"));
    run_or_fail(&opt);
    for (unsigned i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "wide-part%u", i + 1);
        options(&opt, ds, scratch_join(p[i], tmp, name));
        opt.shard_index = i + 1;
        opt.shard_count = 2;
        run_or_fail(&opt);
    }
    const char *dirs[] = {p[0], p[1]};
    if (merge(scratch_join(out, tmp, "wide-merged"), dirs, 2, &err) != 0)
        fail_msg("merge: %s", err.message);
    assert_same_file(w, out, "kpis.csv");
    assert_same_file(w, out, "report.json");
}

/* ---- provenance --------------------------------------------------------- */

/* text with the first `from` after `after` replaced by `to`, summed again. */
static char *replaced(const char *text, const char *after, const char *from, const char *to)
{
    const char *at = strstr(text, after);
    assert_non_null(at);
    at = strstr(at, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *plain = malloc(n);
    assert_non_null(plain);
    snprintf(plain, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    char *out = resummed(plain);
    free(plain);
    return out;
}

/* Parts of a run that keeps its provenance carry it in shard.txt; the
 * merged report has the merge's own command, the parts' files and
 * settings, the first part's start; a forged value in it is refused. */
static void test_shard_merge_carries_the_provenance(void **state)
{
    char pv_parts[SHARDS][SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX];
    const char *dirs[SHARDS];
    struct kpi_provenance runs[SHARDS], merged;
    struct kpi_run_options opt;
    struct kpi_grades grades;
    struct kpi_department_summary overall;
    struct kpi_error err = {0};
    const char *merge_argv[] = {"kpieval", "merge", "m", "p1"};
    (void)state;

    for (unsigned i = 0; i < SHARDS; i++) {
        char name[16];
        const char *argv[] = {"kpieval", "run", "d", "--shard", name};
        snprintf(name, sizeof name, "pv-part%u", i + 1);
        kpi_provenance_init(&runs[i]);
        assert_int_equal(kpi_provenance_set_version(&runs[i], "9.8.7", &err), 0);
        assert_int_equal(kpi_provenance_set_command(&runs[i], 5, argv, &err), 0);
        options(&opt, dataset_dir, scratch_join(pv_parts[i], tmp, name));
        opt.shard_index = i + 1;
        opt.shard_count = SHARDS;
        opt.provenance = &runs[i];
        /* Part 2 ran first: the merged report started then. */
        setenv(KPI_SOURCE_DATE_EPOCH, i == 1 ? "1796538000" : i == 0 ? "1796538120" : "1796538060",
               1);
        run_or_fail(&opt);
        unsetenv(KPI_SOURCE_DATE_EPOCH);
        dirs[i] = pv_parts[i];
    }
    kpi_provenance_init(&merged);
    assert_int_equal(kpi_provenance_set_command(&merged, 4, merge_argv, &err), 0);
    if (kpi_report_merge(scratch_join(out, tmp, "pv-merged"), dirs, SHARDS, &merged, &grades,
                         &overall, &err) != 0)
        fail_msg("merge: %s", err.message);
    assert_string_equal(merged.command, "kpieval merge m p1");
    assert_int_equal(merged.n_files[KPI_PROVENANCE_INPUT], 2);
    assert_true(kpi_provenance_same_inputs(&merged, &runs[0]));
    assert_string_equal(merged.started, "2026-12-06T06:20:00Z"); /* date -u -d @1796538000 */
    assert_true(strcmp(merged.started, merged.finished) <= 0);
    char *json = read_in(out, "report.json");
    assert_contains(json, "\n    \"command\": \"kpieval merge m p1\",\n");
    assert_contains(json, "{\"path\": \"indicators.csv\", \"sha256\": \"");
    assert_contains(json, "\"rows\": 9}"); /* K01..K09 */
    free(json);

    /* What each part keeps, as kpieval wrote it; then values no run writes. */
    char *model = read_in(pv_parts[0], "shard.txt");
    assert_contains(model, "\nprovenance\t9.8.7\tkpieval run d --shard pv-part1\t");
    assert_contains(model, "\ninput\tindicators.csv\t");
    assert_contains(model, "\nsetting\tcap\t120\n");
    const char *sha = strstr(model, "\ninput\tactuals.csv\t") + strlen("\ninput\tactuals.csv\t");
    char digest[KPI_SHA256_HEX], upper[KPI_SHA256_HEX];
    memcpy(digest, sha, 64);
    digest[64] = '\0';
    memcpy(upper, digest, sizeof upper);
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    struct {
        const char *name, *after, *from, *to;
    } forged[] = {
        {"pv-resummed", "\nsetting\tcap", "120", "120"}, /* unchanged: accepted below */
        {"pv-sha-short", "\ninput\tactuals.csv", digest, "abc"},
        {"pv-sha-upper", "\ninput\tactuals.csv", digest, upper},
        {"pv-rows", "\ninput\tactuals.csv", "\t9\n", "\t99999999999\n"},
        {"pv-date", "\nprovenance", "\t20", "\t2026-02-30T00:00:00Z\t20"},
        {"pv-setting-twice", "\nsetting\tcap\t120\n", "\n", "\nsetting\tcap\t150\n"},
        {"pv-tag", "\nsetting\tcap", "setting", "settings"},
    };
    for (size_t f = 0; f < sizeof forged / sizeof forged[0]; f++) {
        char *text = replaced(model, forged[f].after, forged[f].from, forged[f].to);
        const char *with[SHARDS] = {doctored(forged[f].name, text, strlen(text)), dirs[1], dirs[2]};
        if (f == 0) {
            struct kpi_provenance again;
            kpi_provenance_init(&again);
            if (kpi_report_merge(scratch_join(out, tmp, "pv-again"), with, SHARDS, &again,
                                 &grades, &overall, &err) != 0)
                fail_msg("a model summed again, unchanged: %s", err.message);
            kpi_provenance_release(&again);
        } else {
            assert_refused(forged[f].name, with, SHARDS, "not a kpieval shard model");
        }
        free(text);
    }
    /* A right, resummed model whose part read another actuals.csv. */
    char *other = replaced(model, "\ninput\tactuals.csv", digest,
                           "0000000000000000000000000000000000000000000000000000000000000000");
    const char *mixed[SHARDS] = {doctored("pv-other-file", other, strlen(other)), dirs[1], dirs[2]};
    assert_refused("pv-other-file", mixed, SHARDS, "a part of another run");
    free(other);
    free(model);
    kpi_provenance_release(&merged);
    for (unsigned i = 0; i < SHARDS; i++)
        kpi_provenance_release(&runs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_merge_equals_the_whole_run),
        cmocka_unit_test(test_shard_model_escapes_text),
        cmocka_unit_test(test_shard_merge_refuses_a_missing_or_repeated_shard),
        cmocka_unit_test(test_shard_merge_refuses_parts_of_different_runs),
        cmocka_unit_test(test_shard_merge_refuses_a_changed_model),
        cmocka_unit_test(test_shard_merge_many_extra_columns),
        cmocka_unit_test(test_shard_merge_carries_the_provenance),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
