/* Unit tests of the dataset loader on small real dataset folders
 * (docs/formats.md, "The dataset folder"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fnv_flood.h"
#include "kpieval/builder.h"
#include "kpieval/dataset.h"
#include "scratch.h"
#include "strmap.h"

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "dataset");
    return 0;
}

/* tmp/name/ with the two files (actuals NULL: no actuals.csv). */
static const char *make_dataset(char dir[SCRATCH_PATH_MAX], const char *name,
                                const char *indicators, const char *actuals)
{
    return scratch_dataset(dir, tmp, name, indicators, actuals);
}

/* Loads or fails the test with the message. */
static kpi_dataset *load_ok(const char *dir, const char *period)
{
    struct kpi_load_options opt = {.period = period};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    int rc = kpi_dataset_load(dir, &opt, &ds, &err);
    if (rc != 0)
        fail_msg("load of %s failed (%d): %s", dir, rc, err.message);
    assert_non_null(ds);
    return ds;
}

/* Expects the load to fail; returns the code, message in err. */
static int load_fails(const char *dir, const char *period, struct kpi_error *err)
{
    struct kpi_load_options opt = {.period = period};
    kpi_dataset *ds = (kpi_dataset *)&opt; /* must be reset to NULL */
    memset(err, 0, sizeof *err);
    int rc = kpi_dataset_load(dir, &opt, &ds, err);
    if (rc == 0)
        fail_msg("load of %s succeeded, expected a failure", dir);
    assert_null(ds);
    assert_int_equal(err->code, rc);
    return rc;
}

static const struct kpi_indicator *find(const kpi_dataset *ds, const char *id)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ks[i].id, id))
            return &ks[i];
    }
    fail_msg("no indicator '%s'", id);
    return NULL;
}

#define ACTUALS_ONE "indicator,input,value\nK1,x,1\n"

/* ---- columns ------------------------------------------------------------ */

static void test_dataset_header_in_any_order_with_extra_columns(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    size_t n;
    (void)state;
    make_dataset(dir, "order",
                 "formula,owner,target,department,name,id,note\n"
                 "x * 2,김철수,50,경제정책과,일자리 수,K1,first\n"
                 "y,이영희,10,경제정책과/일자리팀,교육 횟수,K2,\n",
                 "value,input,indicator\n4,x,K1\n7,y,K2\n");
    kpi_dataset *ds = load_ok(dir, NULL);

    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ks[0].id, "K1");
    assert_string_equal(ks[0].name, "일자리 수");
    assert_string_equal(ks[0].department, "경제정책과");
    assert_string_equal(ks[0].formula, "x * 2");
    assert_near(ks[0].target, 50, 0);
    assert_int_equal(ks[0].line, 2);
    assert_int_equal(ks[1].line, 3);
    /* Optional columns absent: their defaults. */
    assert_string_equal(ks[0].unit, "");
    assert_int_equal(ks[0].direction, KPI_DIRECTION_INCREASE);
    assert_int_equal(ks[0].scoring, KPI_SCORING_RATIO);
    assert_false(ks[0].has_baseline);
    assert_near(ks[0].weight, 1, 0);
    assert_null(ks[0].invalid);
    assert_null(ks[1].invalid);

    /* Extra columns in file order, their cells per KPI ("" when empty). */
    const char *const *extra = kpi_dataset_extra_columns(ds, &n);
    assert_int_equal(n, 2);
    assert_string_equal(extra[0], "owner");
    assert_string_equal(extra[1], "note");
    assert_string_equal(ks[0].extra[0], "김철수");
    assert_string_equal(ks[0].extra[1], "first");
    assert_string_equal(ks[1].extra[0], "이영희");
    assert_string_equal(ks[1].extra[1], "");

    /* The input values reached the right KPIs despite the column order. */
    assert_int_equal(ks[0].n_inputs, 1);
    assert_string_equal(ks[0].inputs[0].name, "x");
    assert_near(ks[0].inputs[0].value, 4, 0);
    assert_int_equal(ks[0].inputs[0].line, 2);
    assert_near(ks[1].inputs[0].value, 7, 0);
    assert_string_equal(kpi_dataset_dir(ds), dir);
    kpi_dataset_free(ds);
}

static void test_dataset_optional_columns_parsed(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    (void)state;
    make_dataset(dir, "optional",
                 "id,name,department,unit,direction,baseline,target,formula,weight,scoring\n"
                 "K1,a,d,%,decrease,12.5,10,x,2.5,linear\n"
                 "K2,b,d,명,increase,-,10,x,,baseline\n"
                 "K3,c,d,회,,,10,x,0,binary\n"
                 "K4,e,d,,,3,10,x,1,actual / target * 100\n"
                 " K5 , f , d ,,, 4 , 20 , x , 3 ,\n",
                 ACTUALS_ONE);
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_indicator *k1 = find(ds, "K1"), *k2 = find(ds, "K2"), *k3 = find(ds, "K3"),
                               *k4 = find(ds, "K4"), *k5 = find(ds, "K5");

    assert_string_equal(k1->unit, "%");
    assert_int_equal(k1->direction, KPI_DIRECTION_DECREASE);
    assert_true(k1->has_baseline);
    assert_near(k1->baseline, 12.5, 0);
    assert_near(k1->weight, 2.5, 0);
    assert_int_equal(k1->scoring, KPI_SCORING_LINEAR);
    assert_int_equal(k1->scoring_id, KPI_NONE);
    assert_null(k1->invalid);

    /* '-' means no baseline; 'baseline' scoring then makes the KPI invalid. */
    assert_false(k2->has_baseline);
    assert_near(k2->weight, 1, 0); /* empty weight means 1 */
    assert_int_equal(k2->scoring, KPI_SCORING_BASELINE);
    assert_non_null(k2->invalid);
    assert_starts_with(k2->invalid, "indicators.csv:3:");
    assert_contains(k2->invalid, "baseline");

    assert_int_equal(k3->direction, KPI_DIRECTION_INCREASE); /* empty: increase */
    assert_false(k3->has_baseline);
    assert_near(k3->weight, 0, 0); /* weight 0 is allowed */
    assert_int_equal(k3->scoring, KPI_SCORING_BINARY);
    assert_null(k3->invalid);

    assert_int_equal(k4->scoring, KPI_SCORING_EXPRESSION);
    assert_string_equal(k4->scoring_text, "actual / target * 100");
    assert_int_not_equal(k4->scoring_id, KPI_NONE);
    assert_null(k4->invalid);

    /* Spaces around unquoted cells are trimmed. */
    assert_string_equal(k5->name, "f");
    assert_string_equal(k5->department, "d");
    assert_near(k5->baseline, 4, 0);
    assert_near(k5->target, 20, 0);
    assert_near(k5->weight, 3, 0);
    assert_null(k5->invalid);
    kpi_dataset_free(ds);
}

/* ---- KPI-level problems: the KPI is invalid, the load succeeds ----------- */

struct invalid_case {
    const char *id;
    const char *line;   /* "indicators.csv:N:" */
    const char *phrase; /* a word the message must hold */
};

static void test_dataset_invalid_kpi_reasons(void **state)
{
    static const char indicators[] =
        "id,name,department,direction,baseline,target,formula,weight,scoring\n"
        "OK1,ok,d,,,10,x,,\n"                               /* line 2 */
        "T1,target text,d,,,abc,x,,\n"                      /* line 3 */
        "T2,target thousands,d,,,\"3,000\",x,,\n"           /* line 4 */
        "T3,target empty,d,,,,x,,\n"                        /* line 5 */
        "T4,target nan,d,,,nan,x,,\n"                       /* line 6 */
        "B1,baseline text,d,,x1,10,x,,\n"                   /* line 7 */
        "W1,weight negative,d,,,10,x,-1,\n"                 /* line 8 */
        "W2,weight text,d,,,10,x,heavy,\n"                  /* line 9 */
        "D1,direction,d,up,,10,x,,\n"                       /* line 10 */
        "F1,formula empty,d,,,10,,,\n"                      /* line 11 */
        "S1,baseline rule no baseline,d,,,10,x,,baseline\n" /* line 12 */
        "T5,target huge,d,,,1e400,x,,\n"                    /* line 13 */
        "T6,target hex,d,,,0x10,x,,\n";                     /* line 14 */
    static const struct invalid_case cases[] = {
        {"T1", "indicators.csv:3:", "target"},   {"T2", "indicators.csv:4:", "separator"},
        {"T3", "indicators.csv:5:", "target"},   {"T4", "indicators.csv:6:", "target"},
        {"B1", "indicators.csv:7:", "baseline"}, {"W1", "indicators.csv:8:", "negative"},
        {"W2", "indicators.csv:9:", "weight"},   {"D1", "indicators.csv:10:", "direction"},
        {"F1", "indicators.csv:11:", "formula"}, {"S1", "indicators.csv:12:", "baseline"},
        {"T5", "indicators.csv:13:", "target"},  {"T6", "indicators.csv:14:", "target"},
    };
    char dir[SCRATCH_PATH_MAX];
    size_t n;
    (void)state;
    make_dataset(dir, "invalid", indicators, "indicator,input,value\nOK1,x,1\n");
    kpi_dataset *ds = load_ok(dir, NULL);
    kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, 13); /* every row is kept */
    assert_null(find(ds, "OK1")->invalid);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct kpi_indicator *k = find(ds, cases[i].id);
        if (!k->invalid)
            fail_msg("%s should be invalid", cases[i].id);
        assert_starts_with(k->invalid, cases[i].line);
        assert_contains(k->invalid, cases[i].phrase);
    }
    kpi_dataset_free(ds);
}

/* ---- problems that stop the run ----------------------------------------- */

struct fatal_case {
    const char *name;
    const char *indicators;
    const char *want; /* substring of the message */
};

static void test_dataset_fatal_indicator_problems(void **state)
{
#define H "id,name,department,target,formula\n"
    static const struct fatal_case cases[] = {
        {"id_empty", H "K1,a,d,1,x\n,b,d,1,x\n", "indicators.csv:3:"},
        {"id_space", H "K 1,a,d,1,x\n", "indicators.csv:2:"},
        {"id_korean", H "경제,a,d,1,x\n", "indicators.csv:2:"},
        {"id_slash", H "K/1,a,d,1,x\n", "indicators.csv:2:"},
        {"dept_empty", H "K1,a,,1,x\n", "indicators.csv:2:"},
        {"dept_double_slash", H "K1,a,a//b,1,x\n", "indicators.csv:2:"},
        {"dept_leading_slash", H "K1,a,/a,1,x\n", "indicators.csv:2:"},
        {"dept_trailing_slash", H "K1,a,a/,1,x\n", "indicators.csv:2:"},
        {"dept_dot", H "K1,a,a/./b,1,x\n", "indicators.csv:2:"},
        {"dept_dotdot", H "K1,a,a/..,1,x\n", "indicators.csv:2:"},
        {"dept_only_dotdot", H "K1,a,..,1,x\n", "indicators.csv:2:"},
        {"name_empty", H "K1,,d,1,x\n", "indicators.csv:2:"},
        {"missing_id", "name,department,target,formula\na,d,1,x\n", "'id'"},
        {"missing_name", "id,department,target,formula\nK1,d,1,x\n", "'name'"},
        {"missing_department", "id,name,target,formula\nK1,a,1,x\n", "'department'"},
        {"missing_target", "id,name,department,formula\nK1,a,d,x\n", "'target'"},
        {"missing_formula", "id,name,department,target\nK1,a,d,1\n", "'formula'"},
        {"duplicate_header", "id,name,department,target,formula,name\nK1,a,d,1,x,b\n", "name"},
        {"empty_header", "id,name,department,target,formula,\nK1,a,d,1,x,b\n", "indicators.csv:1:"},
        {"header_only", H, "indicators.csv"},
        {"ragged", H "K1,a,d,1\n", "indicators.csv:2:"},
    };
#undef H
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_dataset(dir, cases[i].name, cases[i].indicators, ACTUALS_ONE);
        int rc = load_fails(dir, NULL, &err);
        if (rc != KPI_EINPUT)
            fail_msg("%s: code %d, expected KPI_EINPUT: %s", cases[i].name, rc, err.message);
        if (!strstr(err.message, cases[i].want))
            fail_msg("%s: \"%s\" not in \"%s\"", cases[i].name, cases[i].want, err.message);
    }
}

static void test_dataset_duplicate_id_cites_both_lines(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    (void)state;
    make_dataset(dir, "dupid",
                 "id,name,department,target,formula\n"
                 "K1,a,d,1,x\n"  /* line 2 */
                 "K2,b,d,1,x\n"  /* line 3 */
                 "K1,c,d,1,x\n", /* line 4 */
                 ACTUALS_ONE);
    assert_int_equal(load_fails(dir, NULL, &err), KPI_EINPUT);
    assert_starts_with(err.message, "indicators.csv:4:");
    assert_contains(err.message, "'K1'");
    assert_contains(err.message, "line 2");
}

/* An error about one KPI says which in err->kpi; one about a file, not. */
static void test_dataset_error_fields_name_file_line_and_kpi(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    (void)state;
    make_dataset(dir, "kpi_err",
                 "id,name,department,target,formula\n"
                 "K1,a,d,1,x\n" /* line 2 */
                 "K2,,d,1,x\n", /* line 3: K2 has no name */
                 ACTUALS_ONE);
    assert_int_equal(load_fails(dir, NULL, &err), KPI_EINPUT);
    assert_starts_with(err.message, "indicators.csv:3:");
    assert_string_equal(err.file, "indicators.csv");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 0);
    assert_string_equal(err.kpi, "K2");
    assert_null(err.setting);

    make_dataset(dir, "col_err", "id,name,department,target\nK1,a,d,1\n", ACTUALS_ONE);
    assert_int_equal(load_fails(dir, NULL, &err), KPI_EINPUT);
    assert_string_equal(err.file, "indicators.csv");
    assert_int_equal(err.line, 1);
    assert_string_equal(err.kpi, "");
}

static void test_dataset_missing_or_bad_actuals_file(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    static const char ind[] = "id,name,department,target,formula\nK1,a,d,1,x\n";
    (void)state;
    make_dataset(dir, "noactuals", ind, NULL);
    load_fails(dir, NULL, &err);
    assert_contains(err.message, "actuals.csv");

    make_dataset(dir, "actuals_missing_value", ind, "indicator,input\nK1,x\n");
    assert_int_equal(load_fails(dir, NULL, &err), KPI_EINPUT);
    assert_contains(err.message, "'value'");

    make_dataset(dir, "actuals_ragged", ind, "indicator,input,value\nK1,x,1\nK1,y\n");
    assert_int_equal(load_fails(dir, NULL, &err), KPI_EINPUT);
    assert_starts_with(err.message, "actuals.csv:3:");

    make_dataset(dir, "no_folder_files", NULL, NULL);
    load_fails(dir, NULL, &err);
    assert_contains(err.message, "indicators.csv");
}

static void test_dataset_header_only_actuals_stops_the_run(void **state)
{
    /* formats.md, Common CSV rules: "A file with no header, or a header and
     * no rows, stops the run (exit 2)" - this holds for actuals.csv too. */
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    (void)state;
    make_dataset(dir, "actuals_header_only", "id,name,department,target,formula\nK1,a,d,1,x\n",
                 "indicator,input,value\n");
    load_fails(dir, NULL, &err);
    assert_contains(err.message, "actuals.csv");
}

/* ---- the department tree ------------------------------------------------ */

static void test_dataset_department_tree_order(void **state)
{
    /* Paths: a-b, a/c, b/x/y, 나, 가/나, a/c (again).
     * Nodes: a, a/c, a-b, b, b/x, b/x/y, 가, 가/나, 나.
     * Siblings by byte order of their names: at the top "a" < "a-b" < "b"
     * < "가" (EA B0 80) < "나" (EB 82 98); children follow their parent, so
     * "a/c" comes before "a-b" although '-' (0x2D) < '/' (0x2F). */
    static const char *const want[] = {"a", "a/c", "a-b", "b", "b/x", "b/x/y", "가", "가/나", "나"};
    static const unsigned want_depth[] = {0, 1, 0, 0, 1, 2, 0, 1, 0};
    static const char *const want_name[] = {"a", "c", "a-b", "b", "x", "y", "가", "나", "나"};
    /* Parent indices in the list above; -1 for none. */
    static const int want_parent[] = {-1, 0, -1, -1, 3, 4, -1, 6, -1};
    char dir[SCRATCH_PATH_MAX];
    size_t n;
    (void)state;
    make_dataset(dir, "tree",
                 "id,name,department,target,formula\n"
                 "K1,a,a-b,1,x\n"
                 "K2,b,a/c,1,x\n"
                 "K3,c,b/x/y,1,x\n"
                 "K4,d,나,1,x\n"
                 "K5,e,가/나,1,x\n"
                 "K6,f,a/c,1,x\n",
                 ACTUALS_ONE);
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(deps[i].path, want[i]))
            fail_msg("node %zu is '%s', expected '%s'", i, deps[i].path, want[i]);
        assert_string_equal(deps[i].name, want_name[i]);
        assert_int_equal(deps[i].depth, want_depth[i]);
        if (want_parent[i] < 0)
            assert_int_equal(deps[i].parent, KPI_NONE);
        else
            assert_int_equal(deps[i].parent, (unsigned)want_parent[i]);
    }
    /* Each KPI points at the node of its own path. */
    assert_string_equal(deps[find(ds, "K1")->department_id].path, "a-b");
    assert_string_equal(deps[find(ds, "K2")->department_id].path, "a/c");
    assert_int_equal(find(ds, "K2")->department_id, find(ds, "K6")->department_id);
    assert_string_equal(deps[find(ds, "K3")->department_id].path, "b/x/y");
    assert_string_equal(deps[find(ds, "K5")->department_id].path, "가/나");
    kpi_dataset_free(ds);
}

/* Warnings added after loading: a plugin that failed to load goes before
 * all the others, so that it is among the KPI_WARNINGS_KEPT kept even
 * after 150 warnings of the files; other later warnings only count. */
static void test_dataset_first_warnings_are_kept(void **state)
{
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;
    struct kpi_error err = {0};
    struct kpi_indicator_spec k = {.id = "K1", .name = "n", .department = "d", .target = "1",
                                   .formula = "x"};
    size_t n, total;
    (void)state;

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    assert_int_equal(kpi_builder_add_indicator(b, &k, &err), 0);
    for (int i = 0; i < 150; i++) {
        struct kpi_actual_spec a = {"NOPE", "x", "1", 0};
        assert_int_equal(kpi_builder_add_actual(b, &a, &err), 0);
    }
    assert_int_equal(kpi_builder_finish(b, &ds, &err), 0);
    kpi_builder_free(b);
    kpi_dataset_warnings(ds, &n, &total);
    assert_int_equal(n, KPI_WARNINGS_KEPT);
    assert_int_equal(total, 151); /* and K1 has no rows */

    assert_int_equal(kpi_dataset_add_warning(ds, "p1.lua:1: broken", true, &err), 0);
    assert_int_equal(kpi_dataset_add_warning(ds, "rules.csv:2: late", false, &err), 0);
    assert_int_equal(kpi_dataset_add_warning(ds, "p2.lua:1: broken", true, &err), 0);
    const char *const *w = kpi_dataset_warnings(ds, &n, &total);
    assert_int_equal(n, KPI_WARNINGS_KEPT);
    assert_int_equal(total, 154);
    assert_string_equal(w[0], "p1.lua:1: broken");
    assert_string_equal(w[1], "p2.lua:1: broken");
    assert_string_equal(w[2], "actuals.csv:2: actual for unknown indicator 'NOPE' ignored");
    kpi_dataset_free(ds);
}

static void test_dataset_department_korean_byte_order(void **state)
{
    /* UTF-8 byte order is 가나다 order: 가 (EA B0 80) < 경 (EA B2 BD)
     * < 기 (EA B8 B0) < 나 (EB 82 98) < 다 (EB 8B A4); ASCII sorts first. */
    static const char *const want[] = {"Z",
                                       "가",
                                       "경제진흥본부",
                                       "경제진흥본부/경제정책과",
                                       "경제진흥본부/일자리정책과",
                                       "기획조정실",
                                       "나",
                                       "다"};
    char dir[SCRATCH_PATH_MAX];
    size_t n;
    (void)state;
    make_dataset(dir, "korean",
                 "id,name,department,target,formula\n"
                 "K1,a,다,1,x\n"
                 "K2,a,기획조정실,1,x\n"
                 "K3,a,경제진흥본부/일자리정책과,1,x\n"
                 "K4,a,나,1,x\n"
                 "K5,a,경제진흥본부/경제정책과,1,x\n"
                 "K6,a,가,1,x\n"
                 "K7,a,Z,1,x\n",
                 ACTUALS_ONE);
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(deps[i].path, want[i]))
            fail_msg("node %zu is '%s', expected '%s'", i, deps[i].path, want[i]);
    }
    kpi_dataset_free(ds);
}

/* ---- periods ------------------------------------------------------------ */

#define PERIOD_INDICATORS "id,name,department,target,formula\nK1,a,d,1,x\n"
#define PERIOD_ACTUALS                                                                             \
    "indicator,input,value,period\n"                                                               \
    "K1,x,10,2019\n"                                                                               \
    "K1,x,20,2020\n"                                                                               \
    "K1,y,5,2020\n"

static void test_dataset_period_selects_rows(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    (void)state;
    make_dataset(dir, "period", PERIOD_INDICATORS, PERIOD_ACTUALS);
    kpi_dataset *ds = load_ok(dir, "2020");
    const struct kpi_indicator *k = find(ds, "K1");
    assert_string_equal(kpi_dataset_period(ds), "2020");
    /* Only the 2020 rows: x=20 (line 3) and y=5 (line 4); the same input
     * in another period is no duplicate. */
    assert_null(k->invalid);
    assert_int_equal(k->n_inputs, 2);
    assert_string_equal(k->inputs[0].name, "x");
    assert_near(k->inputs[0].value, 20, 0);
    assert_int_equal(k->inputs[0].line, 3);
    assert_string_equal(k->inputs[1].name, "y");
    kpi_dataset_free(ds);

    ds = load_ok(dir, "2019");
    k = find(ds, "K1");
    assert_int_equal(k->n_inputs, 1);
    assert_near(k->inputs[0].value, 10, 0);
    kpi_dataset_free(ds);
}

static void test_dataset_several_periods_need_a_choice(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    (void)state;
    make_dataset(dir, "periods", PERIOD_INDICATORS, PERIOD_ACTUALS);
    load_fails(dir, NULL, &err);
    assert_contains(err.message, "actuals.csv");
    assert_contains(err.message, "2019");
    assert_contains(err.message, "2020");
    assert_string_equal(err.setting, KPI_SETTING_PERIOD);
    assert_null(strstr(err.message, "--"));

    /* A period no row has: refused, listing the periods found. */
    load_fails(dir, "2021", &err);
    assert_contains(err.message, "2021");
    assert_contains(err.message, "2019");
    assert_contains(err.message, "2020");
}

static void test_dataset_single_period_or_none(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_error err;
    (void)state;
    make_dataset(dir, "one_period", PERIOD_INDICATORS,
                 "indicator,input,value,period\nK1,x,1,2019-Q3\nK1,y,2,2019-Q3\n");
    kpi_dataset *ds = load_ok(dir, NULL);
    assert_string_equal(kpi_dataset_period(ds), "2019-Q3");
    kpi_dataset_free(ds);

    make_dataset(dir, "no_period", PERIOD_INDICATORS, "indicator,input,value\nK1,x,1\n");
    ds = load_ok(dir, NULL);
    assert_null(kpi_dataset_period(ds));
    kpi_dataset_free(ds);

    /* A period asked of a file that has no period column stops the run. */
    load_fails(dir, "2019", &err);
    assert_contains(err.message, "period");
    assert_string_equal(err.setting, KPI_SETTING_PERIOD);
    assert_string_equal(err.file, "actuals.csv");
    assert_null(strstr(err.message, "--"));
}

/* ---- actual rows -------------------------------------------------------- */

static void test_dataset_duplicate_actual_makes_kpi_invalid(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    (void)state;
    make_dataset(dir, "dupactual", "id,name,department,target,formula\nK1,a,d,1,x\nK2,b,d,1,x\n",
                 "indicator,input,value,period\n"
                 "K1,x,1,2019\n"   /* line 2 */
                 "K2,x,1,2019\n"   /* line 3 */
                 "K1,x,2,2019\n"); /* line 4: duplicate of line 2 */
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_indicator *k1 = find(ds, "K1");
    assert_non_null(k1->invalid);
    assert_starts_with(k1->invalid, "actuals.csv:4:");
    assert_contains(k1->invalid, "'x'");
    assert_contains(k1->invalid, "'K1'");
    assert_contains(k1->invalid, "line 2");
    assert_null(find(ds, "K2")->invalid);
    kpi_dataset_free(ds);
}

static void test_dataset_bad_actual_rows_make_kpi_invalid(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    (void)state;
    make_dataset(dir, "badactual",
                 "id,name,department,target,formula\n"
                 "K1,a,d,1,x\nK2,b,d,1,x\nK3,c,d,1,x\nK4,d,d,1,x\n",
                 "indicator,input,value\n"
                 "K1,x,12a\n"         /* line 2: value not a number */
                 "K2,1x,1\n"          /* line 3: input not an identifier */
                 "K3,end,1\n"         /* line 4: a Lua keyword */
                 "K4,x,\"3,000\"\n"); /* line 5: thousands separator */
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_indicator *k1 = find(ds, "K1"), *k2 = find(ds, "K2"), *k3 = find(ds, "K3"),
                               *k4 = find(ds, "K4");
    assert_non_null(k1->invalid);
    assert_starts_with(k1->invalid, "actuals.csv:2:");
    assert_contains(k1->invalid, "12a");
    assert_non_null(k2->invalid);
    assert_starts_with(k2->invalid, "actuals.csv:3:");
    assert_contains(k2->invalid, "1x");
    assert_non_null(k3->invalid);
    assert_starts_with(k3->invalid, "actuals.csv:4:");
    assert_non_null(k4->invalid);
    assert_starts_with(k4->invalid, "actuals.csv:5:");
    assert_contains(k4->invalid, "separator");
    kpi_dataset_free(ds);
}

static void test_dataset_unknown_indicator_is_a_warning(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    size_t n, total;
    (void)state;
    make_dataset(dir, "unknown", "id,name,department,target,formula\nK1,a,d,1,x\n",
                 "indicator,input,value\nK1,x,1\nNOPE,x,2\n");
    kpi_dataset *ds = load_ok(dir, NULL);
    const char *const *w = kpi_dataset_warnings(ds, &n, &total);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_starts_with(w[0], "actuals.csv:3:");
    assert_contains(w[0], "NOPE");
    /* The row is ignored; K1 keeps its own input only. */
    assert_null(find(ds, "K1")->invalid);
    assert_int_equal(find(ds, "K1")->n_inputs, 1);
    kpi_dataset_free(ds);
}

static void test_dataset_warnings_are_counted_beyond_those_kept(void **state)
{
    /* 150 unknown rows: all counted, KPI_WARNINGS_KEPT (100) kept. */
    char dir[SCRATCH_PATH_MAX];
    size_t n, total, len = 0;
    char *actuals = malloc(64 * 160);
    (void)state;
    assert_non_null(actuals);
    len += (size_t)snprintf(actuals + len, 64, "indicator,input,value\nK1,x,1\n");
    for (int i = 0; i < 150; i++)
        len += (size_t)snprintf(actuals + len, 64, "U%d,x,1\n", i);
    make_dataset(dir, "manywarnings", "id,name,department,target,formula\nK1,a,d,1,x\n", actuals);
    free(actuals);
    kpi_dataset *ds = load_ok(dir, NULL);
    kpi_dataset_warnings(ds, &n, &total);
    assert_int_equal(n, KPI_WARNINGS_KEPT);
    assert_int_equal(total, 150);
    kpi_dataset_free(ds);
}

static void test_dataset_inputs_in_formula_order_then_by_name(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    (void)state;
    /* K1: employed first appears at 0, unemployed at 23; alpha and zeta do
     * not appear, so they follow by name.
     * K2: "subtotal" at 0 holds "total" inside it, but as a word "total"
     * first appears at 11, after subtotal.
     * K3: "kpi.beta" is a field access, not a use of input beta; "gamma"
     * is used at 0, beta at 34: so gamma, beta. */
    make_dataset(dir, "inputorder",
                 "id,name,department,target,formula\n"
                 "K1,a,d,1,employed / (employed + unemployed) * 100\n"
                 "K2,b,d,1,subtotal + total\n"
                 "K3,c,d,1,gamma + tonumber(kpi.beta or 0) + beta\n",
                 "indicator,input,value\n"
                 "K1,zeta,1\nK1,unemployed,2\nK1,alpha,3\nK1,employed,4\n"
                 "K2,total,5\nK2,subtotal,6\n"
                 "K3,beta,7\nK3,gamma,8\n");
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_indicator *k1 = find(ds, "K1"), *k2 = find(ds, "K2"), *k3 = find(ds, "K3");
    static const char *const want1[] = {"employed", "unemployed", "alpha", "zeta"};
    assert_int_equal(k1->n_inputs, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_string_equal(k1->inputs[i].name, want1[i]);
    assert_near(k1->inputs[0].value, 4, 0); /* values travel with their names */
    assert_int_equal(k1->inputs[0].line, 5);
    assert_near(k1->inputs[3].value, 1, 0);
    assert_int_equal(k2->n_inputs, 2);
    assert_string_equal(k2->inputs[0].name, "subtotal");
    assert_string_equal(k2->inputs[1].name, "total");
    assert_int_equal(k3->n_inputs, 2);
    assert_string_equal(k3->inputs[0].name, "gamma");
    assert_string_equal(k3->inputs[1].name, "beta");
    kpi_dataset_free(ds);
}

static void test_dataset_expressions_deduplicated(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    size_t n;
    (void)state;
    make_dataset(dir, "dedup",
                 "id,name,department,target,formula,scoring\n"
                 "K1,a,d,1,a + b,\n"
                 "K2,b,d,1, a + b ,actual * 2\n"
                 "K3,c,d,1,a - b,actual * 2\n"
                 "K4,e,d,1,a + b,linear\n",
                 ACTUALS_ONE);
    kpi_dataset *ds = load_ok(dir, NULL);
    const struct kpi_indicator *k1 = find(ds, "K1"), *k2 = find(ds, "K2"), *k3 = find(ds, "K3"),
                               *k4 = find(ds, "K4");
    const char *const *texts = kpi_dataset_expressions(ds, &n);
    /* Distinct texts: "a + b", "actual * 2", "a - b". */
    assert_int_equal(n, 3);
    assert_int_equal(k1->formula_id, k2->formula_id);
    assert_int_equal(k1->formula_id, k4->formula_id);
    assert_int_not_equal(k1->formula_id, k3->formula_id);
    assert_int_equal(k2->scoring_id, k3->scoring_id);
    assert_int_equal(k1->scoring_id, KPI_NONE);
    assert_string_equal(texts[k1->formula_id], "a + b");
    assert_string_equal(texts[k3->formula_id], "a - b");
    assert_string_equal(texts[k2->scoring_id], "actual * 2");
    kpi_dataset_free(ds);
}

/* ---- hash flooding ------------------------------------------------------ */

/* Slots the string maps visit while loading COUNT KPIs, each in its own
 * department, named by keys[i] (ids and top-level departments), with an
 * actual each, listed backwards so that every row is a lookup. */
static unsigned long long probes_to_load(const char *name, const char *keys, size_t len,
                                         size_t count)
{
    char dir[SCRATCH_PATH_MAX];
    size_t cap = count * (3 * len + 32) + 64, o, n;
    char *indicators = malloc(cap), *actuals = malloc(cap);
    assert_non_null(indicators);
    assert_non_null(actuals);
    o = (size_t)snprintf(indicators, cap, "id,name,department,target,formula\n");
    for (size_t i = 0; i < count; i++) {
        const char *key = keys + i * len;
        o += (size_t)snprintf(indicators + o, cap - o, "%s,n,%s,1,x\n", key, key);
    }
    o = (size_t)snprintf(actuals, cap, "indicator,input,value\n");
    for (size_t i = count; i-- > 0;)
        o += (size_t)snprintf(actuals + o, cap - o, "%s,x,1\n", keys + i * len);
    make_dataset(dir, name, indicators, actuals);
    free(indicators);
    free(actuals);

    unsigned long long before = kpi_strmap_probes;
    kpi_dataset *ds = load_ok(dir, NULL);
    unsigned long long probes = kpi_strmap_probes - before;
    kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, count);
    kpi_dataset_departments(ds, &n);
    assert_int_equal(n, count);
    kpi_dataset_free(ds);
    return probes;
}

/* Ids and departments chosen to share one slot under the old unseeded
 * FNV-1a load with the work of any other names: the keyed hash spreads
 * them. (Under the old hash: about COUNT^2 / 2 slot visits per map.) */
static void test_dataset_hash_flooding_keys_load_in_linear_work(void **state)
{
    enum { BITS = 10, BLOCKS = 9, COUNT = 1 << BLOCKS, LEN = BLOCKS * FNV_FLOOD_BLOCK + 1 };
    char *flood = fnv_flood_keys(BITS, BLOCKS);
    char *plain = calloc(COUNT, LEN);
    (void)state;
    assert_non_null(flood);
    assert_non_null(plain);
    for (size_t i = 0; i < COUNT; i++) /* same length, ordinary names */
        snprintf(plain + i * LEN, LEN, "K%0*zu", LEN - 2, i);
    unsigned long long p_plain = probes_to_load("flood_plain", plain, LEN, COUNT);
    unsigned long long p_flood = probes_to_load("flood_fnv", flood, LEN, COUNT);
    /* Both are a few visits per key and row; a pile-up is ~COUNT/2 each. */
    if (p_flood > 2 * p_plain + 4 * COUNT)
        fail_msg("flood keys: %llu slot visits, ordinary keys %llu", p_flood, p_plain);
    free(flood);
    free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_header_in_any_order_with_extra_columns),
        cmocka_unit_test(test_dataset_optional_columns_parsed),
        cmocka_unit_test(test_dataset_invalid_kpi_reasons),
        cmocka_unit_test(test_dataset_fatal_indicator_problems),
        cmocka_unit_test(test_dataset_duplicate_id_cites_both_lines),
        cmocka_unit_test(test_dataset_error_fields_name_file_line_and_kpi),
        cmocka_unit_test(test_dataset_missing_or_bad_actuals_file),
        cmocka_unit_test(test_dataset_header_only_actuals_stops_the_run),
        cmocka_unit_test(test_dataset_department_tree_order),
        cmocka_unit_test(test_dataset_department_korean_byte_order),
        cmocka_unit_test(test_dataset_first_warnings_are_kept),
        cmocka_unit_test(test_dataset_period_selects_rows),
        cmocka_unit_test(test_dataset_several_periods_need_a_choice),
        cmocka_unit_test(test_dataset_single_period_or_none),
        cmocka_unit_test(test_dataset_duplicate_actual_makes_kpi_invalid),
        cmocka_unit_test(test_dataset_bad_actual_rows_make_kpi_invalid),
        cmocka_unit_test(test_dataset_unknown_indicator_is_a_warning),
        cmocka_unit_test(test_dataset_warnings_are_counted_beyond_those_kept),
        cmocka_unit_test(test_dataset_inputs_in_formula_order_then_by_name),
        cmocka_unit_test(test_dataset_expressions_deduplicated),
        cmocka_unit_test(test_dataset_hash_flooding_keys_load_in_linear_work),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
