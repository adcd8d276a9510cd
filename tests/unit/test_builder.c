/* Unit tests of the dataset builder (builder.h): a dataset built in memory
 * is the one kpi_dataset_load() makes of the same rows in files; invalid
 * reasons, what stops a build, and lookup by id after sorting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/builder.h"
#include "kpieval/dataset.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "builder");
    return 0;
}

static kpi_builder *builder_new(void)
{
    kpi_builder *b = NULL;
    struct kpi_error err = {0};
    if (kpi_builder_new(NULL, &b, &err))
        fail_msg("kpi_builder_new: %s", err.message);
    return b;
}

static void add_indicator(kpi_builder *b, const struct kpi_indicator_spec *spec)
{
    struct kpi_error err = {0};
    if (kpi_builder_add_indicator(b, spec, &err))
        fail_msg("add %s: %s", spec->id, err.message);
}

static void add_actual(kpi_builder *b, const char *id, const char *input, const char *value)
{
    struct kpi_error err = {0};
    struct kpi_actual_spec spec = {id, input, value, 0};
    if (kpi_builder_add_actual(b, &spec, &err))
        fail_msg("add actual %s.%s: %s", id, input, err.message);
}

static kpi_dataset *finish(kpi_builder *b)
{
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    if (kpi_builder_finish(b, &ds, &err))
        fail_msg("finish: %s", err.message);
    kpi_builder_free(b);
    return ds;
}

/* ---- the same dataset as from files --------------------------------------- */

/* Rows out of report order, across three departments, with an extra
 * column, a unit, a baseline, an expression rule, an invalid KPI, an input
 * the formula does not use, a duplicate input and an unknown indicator. */
static const char indicators_csv[] =
    "id,name,department,unit,direction,baseline,target,formula,weight,scoring,owner\n"
    "K9,아홉,b/c,%,decrease,5,3,x + y,2,,kim\n"       /* line 2 */
    "K1,one,a,,,,10,y * x,,linear,lee\n"              /* line 3 */
    "K5,five,b,명,,-,abc,z,,actual / target * 100,\n" /* line 4 */
    "K2,two,a,,,,10,y * x,,,park\n";                  /* line 5 */
static const char actuals_csv[] = "indicator,input,value,period\n"
                                  "K9,y,1,2019\n"  /* line 2 */
                                  "K1,x,4,2019\n"  /* line 3 */
                                  "K1,y,5,2019\n"  /* line 4 */
                                  "K1,w,6,2019\n"  /* line 5 */
                                  "K9,x,2,2019\n"  /* line 6 */
                                  "K2,x,1,2019\n"  /* line 7 */
                                  "K2,x,3,2019\n"  /* line 8 */
                                  "K7,x,1,2019\n"; /* line 9 */

static kpi_dataset *build_same_in_memory(void)
{
    static const char *const extra[] = {"owner"};
    const char *kim[] = {"kim"}, *lee[] = {"lee"}, *park[] = {"park"};
    struct kpi_error err = {0};
    kpi_builder *b = builder_new();

    assert_int_equal(kpi_builder_set_extra_columns(b, extra, 1, &err), 0);
    add_indicator(b, &(struct kpi_indicator_spec){.id = "K9",
                                                  .name = "아홉",
                                                  .department = "b/c",
                                                  .unit = "%",
                                                  .direction = "decrease",
                                                  .baseline = "5",
                                                  .target = "3",
                                                  .formula = "x + y",
                                                  .weight = "2",
                                                  .extra = kim});
    add_indicator(b, &(struct kpi_indicator_spec){.id = "K1",
                                                  .name = "one",
                                                  .department = "a",
                                                  .target = "10",
                                                  .formula = "y * x",
                                                  .scoring = "linear",
                                                  .extra = lee});
    add_indicator(b, &(struct kpi_indicator_spec){.id = "K5",
                                                  .name = "five",
                                                  .department = "b",
                                                  .unit = "명",
                                                  .baseline = "-",
                                                  .target = "abc",
                                                  .formula = "z",
                                                  .scoring = "actual / target * 100"});
    add_indicator(b, &(struct kpi_indicator_spec){.id = "K2",
                                                  .name = "two",
                                                  .department = "a",
                                                  .target = "10",
                                                  .formula = "y * x",
                                                  .extra = park});
    add_actual(b, "K9", "y", "1");
    add_actual(b, "K1", "x", "4");
    add_actual(b, "K1", "y", "5");
    add_actual(b, "K1", "w", "6");
    add_actual(b, "K9", "x", "2");
    add_actual(b, "K2", "x", "1");
    add_actual(b, "K2", "x", "3");
    add_actual(b, "K7", "x", "1");
    assert_int_equal(kpi_builder_set_period(b, "2019", &err), 0);
    return finish(b);
}

static void assert_same_string(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same_indicator(const struct kpi_indicator *a, const struct kpi_indicator *b,
                                  size_t n_extra)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->department, b->department);
    assert_string_equal(a->unit, b->unit);
    assert_string_equal(a->formula, b->formula);
    assert_same_string(a->scoring_text, b->scoring_text);
    assert_same_string(a->invalid, b->invalid);
    assert_same_string(a->bad->target, b->bad->target);
    assert_true(a->baseline == b->baseline && a->target == b->target && a->weight == b->weight);
    assert_int_equal(a->line, b->line);
    assert_int_equal(a->formula_id, b->formula_id);
    assert_int_equal(a->scoring_id, b->scoring_id);
    assert_int_equal(a->department_id, b->department_id);
    assert_int_equal(a->direction, b->direction);
    assert_int_equal(a->scoring, b->scoring);
    assert_int_equal(a->has_baseline, b->has_baseline);
    for (size_t e = 0; e < n_extra; e++)
        assert_string_equal(a->extra[e], b->extra[e]);
    assert_int_equal(a->n_inputs, b->n_inputs);
    for (unsigned i = 0; i < a->n_inputs; i++) {
        assert_string_equal(a->inputs[i].name, b->inputs[i].name);
        assert_true(a->inputs[i].value == b->inputs[i].value);
        assert_int_equal(a->inputs[i].line, b->inputs[i].line);
    }
}

static void test_builder_builds_what_the_loader_loads(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *loaded = NULL, *built = build_same_in_memory();
    size_t n, m;
    (void)state;

    scratch_dataset(dir, tmp, "same", indicators_csv, actuals_csv);
    if (kpi_dataset_load(dir, &opt, &loaded, &err))
        fail_msg("load: %s", err.message);

    /* Report order: tree order a, b, b/c, then id. */
    const struct kpi_indicator *a = kpi_dataset_indicators(loaded, &n);
    const struct kpi_indicator *b = kpi_dataset_indicators(built, &m);
    static const char *const order[] = {"K1", "K2", "K5", "K9"};
    assert_int_equal(n, 4);
    assert_int_equal(m, 4);
    size_t n_extra;
    kpi_dataset_extra_columns(built, &n_extra);
    assert_int_equal(n_extra, 1);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(b[i].id, order[i]);
        assert_same_indicator(&a[i], &b[i], n_extra);
    }

    const struct kpi_department *da = kpi_dataset_departments(loaded, &n);
    const struct kpi_department *db = kpi_dataset_departments(built, &m);
    assert_int_equal(n, 3);
    assert_int_equal(m, 3);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(da[i].path, db[i].path);
        assert_int_equal(da[i].parent, db[i].parent);
        assert_int_equal(da[i].depth, db[i].depth);
    }
    assert_string_equal(db[2].path, "b/c");
    assert_int_equal(db[2].parent, 1);

    const char *const *ea = kpi_dataset_expressions(loaded, &n);
    const char *const *eb = kpi_dataset_expressions(built, &m);
    assert_int_equal(n, m);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ea[i], eb[i]);
    assert_string_equal(kpi_dataset_period(built), "2019");
    const char *const *wa = kpi_dataset_warnings(loaded, &n, NULL);
    const char *const *wb = kpi_dataset_warnings(built, &m, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(m, 1);
    assert_string_equal(wb[0], "actuals.csv:9: actual for unknown indicator 'K7' ignored");
    assert_string_equal(wa[0], wb[0]);
    assert_string_equal(kpi_dataset_dir(loaded), dir);
    assert_null(kpi_dataset_dir(built));
    kpi_dataset_free(loaded);
    kpi_dataset_free(built);
}

/* ---- invalid reasons, worked out from docs/formats.md ---------------------- */

static void test_builder_invalid_reasons(void **state)
{
    kpi_dataset *ds = build_same_in_memory();
    (void)state;

    /* K5 line 4: target 'abc'; its expression rule is kept. */
    const struct kpi_indicator *k5 = kpi_dataset_find(ds, "K5");
    assert_non_null(k5);
    assert_string_equal(k5->invalid, "indicators.csv:4: target 'abc' is not a number");
    assert_string_equal(k5->bad->target, "abc");
    assert_int_equal(k5->scoring, KPI_SCORING_EXPRESSION);
    /* K2: x twice, lines 7 and 8, in period 2019. */
    assert_string_equal(kpi_dataset_find(ds, "K2")->invalid,
                        "actuals.csv:8: duplicate input 'x' for 'K2' in period '2019' "
                        "(first at line 7)");
    /* K1: inputs in formula order (y before x), then w by name. */
    const struct kpi_indicator *k1 = kpi_dataset_find(ds, "K1");
    assert_null(k1->invalid);
    assert_int_equal(k1->n_inputs, 3);
    assert_string_equal(k1->inputs[0].name, "y");
    assert_string_equal(k1->inputs[1].name, "x");
    assert_string_equal(k1->inputs[2].name, "w");
    assert_int_equal(k1->inputs[2].line, 5);
    kpi_dataset_free(ds);
}

/* Cells that only make a KPI invalid: lines numbered as in a file. */
static void test_builder_cell_problems_make_kpis_invalid(void **state)
{
    static const struct {
        struct kpi_indicator_spec spec;
        const char *reason;
    } cases[] = {
        {{.id = "W", .name = "w", .department = "d", .target = "1", .formula = "x", .weight = "-2"},
         "indicators.csv:2: weight '-2' is negative"},
        {{.id = "D",
          .name = "d",
          .department = "d",
          .target = "1",
          .formula = "x",
          .direction = "up"},
         "indicators.csv:3: direction 'up' is not 'increase' or 'decrease'"},
        {{.id = "F", .name = "f", .department = "d", .target = "1"},
         "indicators.csv:4: formula is empty"},
        {{.id = "S",
          .name = "s",
          .department = "d",
          .target = "1",
          .formula = "x",
          .scoring = "baseline"},
         "indicators.csv:5: scoring 'baseline' needs a baseline, and it is empty"},
        {{.id = "V", .name = "v", .department = "d", .target = "1", .formula = "x"},
         "actuals.csv:2: value '1.5.2' of input 'x' is not a number"},
        {{.id = "N", .name = "n", .department = "d", .target = "1", .formula = "x"},
         "actuals.csv:3: input name 'end' is not a Lua identifier (letters, digits and '_', "
         "not starting with a digit, not a keyword)"},
    };
    kpi_builder *b = builder_new();
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        add_indicator(b, &cases[i].spec);
    add_actual(b, "V", "x", "1.5.2");
    add_actual(b, "N", "end", "1");
    kpi_dataset *ds = finish(b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct kpi_indicator *k = kpi_dataset_find(ds, cases[i].spec.id);
        assert_non_null(k);
        if (!k->invalid)
            fail_msg("%s should be invalid", k->id);
        assert_starts_with(k->invalid, cases[i].reason);
    }
    kpi_dataset_free(ds);
}

/* ---- what stops a build ----------------------------------------------------- */

static void test_builder_duplicate_id_stops(void **state)
{
    struct kpi_indicator_spec spec = {
        .id = "K1", .name = "n", .department = "d", .target = "1", .formula = "x"};
    struct kpi_error err = {0};
    kpi_builder *b = builder_new();
    (void)state;

    add_indicator(b, &spec);
    assert_int_equal(kpi_builder_add_indicator(b, &spec, &err), KPI_EINPUT);
    assert_string_equal(err.message, "indicators.csv:3: duplicate id 'K1' (first at line 2)");
    kpi_builder_free(b);

    b = builder_new();
    spec.department = "a//b";
    assert_int_equal(kpi_builder_add_indicator(b, &spec, &err), KPI_EINPUT);
    assert_string_equal(err.message, "indicators.csv:2: department 'a//b' of 'K1' has an empty "
                                     "level");
    kpi_builder_free(b);
}

static void test_builder_refuses_misuse(void **state)
{
    struct kpi_indicator_spec spec = {
        .id = "K1", .name = "n", .department = "d", .target = "1", .formula = "x"};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    kpi_builder *b = builder_new();
    (void)state;

    assert_int_equal(kpi_builder_finish(b, &ds, &err), KPI_EINPUT); /* nothing added */
    assert_null(ds);
    add_indicator(b, &spec);
    add_actual(b, "K1", "x", "1");
    spec.id = "K2"; /* indicators come before actuals */
    assert_int_equal(kpi_builder_add_indicator(b, &spec, &err), KPI_EUSAGE);
    kpi_dataset_free(finish(b));
}

/* ---- lookup by id ----------------------------------------------------------- */

static void test_builder_find_by_id_after_sort_and_shard(void **state)
{
    static const char *const departments[] = {"z", "a", "m", "a/b", "q"};
    char id[16];
    kpi_builder *b = builder_new();
    size_t n;
    (void)state;

    /* 50 KPIs added in an order far from report order. */
    for (int i = 49; i >= 0; i--) {
        snprintf(id, sizeof id, "K%02d", i);
        add_indicator(b, &(struct kpi_indicator_spec){.id = id,
                                                      .name = "n",
                                                      .department = departments[i % 5],
                                                      .target = "1",
                                                      .formula = "x"});
    }
    kpi_dataset *ds = finish(b);
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, 50);
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "K%02d", i);
        const struct kpi_indicator *k = kpi_dataset_find(ds, id);
        assert_non_null(k);
        assert_string_equal(k->id, id);
        assert_true(k >= ks && k < ks + n);
        /* added as row 49 - i, so line 2 + 49 - i */
        assert_int_equal(k->line, 51 - i);
    }
    assert_null(kpi_dataset_find(ds, "K50"));
    assert_null(kpi_dataset_find(ds, ""));

    /* A shard: the ids it keeps are found in their new places, the others
     * not at all. */
    unsigned shard = kpi_shard_of("a", 2);
    struct kpi_error err = {0};
    assert_int_equal(kpi_dataset_keep_shard(ds, shard, 2, &err), 0);
    ks = kpi_dataset_indicators(ds, &n);
    assert_true(n > 0 && n < 50); /* some kept, some dropped */
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "K%02d", i);
        const struct kpi_indicator *k = kpi_dataset_find(ds, id);
        bool kept = kpi_shard_of(departments[i % 5], 2) == shard;
        if (!kept) {
            assert_null(k);
            continue;
        }
        assert_non_null(k);
        assert_string_equal(k->id, id);
        assert_true(k >= ks && k < ks + n);
    }
    kpi_dataset_free(ds);
}

/* ---- composite KPIs ------------------------------------------------------ */

struct composite_row {
    const char *id, *formula, *scoring;
    const char *invalid; /* the reason expected, or NULL */
    const char *deps;    /* the deps expected, joined by ' ' */
};

/* Worked out by hand from the formulas: which KPIs read each other in a
 * circle (a 2-cycle, a 3-cycle, a KPI reading itself, three KPIs of which
 * one is on the shortest cycle through the first only), and the calls the
 * plan cannot order. Row i is line i + 2 of indicators.csv. */
static const struct composite_row composite_rows[] = {
    {"A", "x", NULL, NULL, ""},
    {"P", "kpi_value(\"Q\")", NULL, "indicators.csv:3: dependency cycle: P -> Q -> P", "Q"},
    {"Q", "kpi_value('P') + x", NULL, "indicators.csv:4: dependency cycle: Q -> P -> Q", "P"},
    {"R", "kpi_value('S')", NULL, "indicators.csv:5: dependency cycle: R -> S -> T -> R", "S"},
    {"S", "kpi_value('T')", NULL, "indicators.csv:6: dependency cycle: S -> T -> R -> S", "T"},
    {"T", "kpi_value('R')", NULL, "indicators.csv:7: dependency cycle: T -> R -> S -> T", "R"},
    {"U", "kpi_value('U')", NULL, "indicators.csv:8: dependency cycle: U -> U", "U"},
    /* downstream of a cycle: valid here, `error` when it runs */
    {"V", "kpi_value('P') * 2", NULL, NULL, "P"},
    {"W", "kpi_value('AA')", NULL, "indicators.csv:10: kpi_value: no KPI 'AA'; did you mean 'A'?",
     ""},
    {"X", "kpi_value(id)", NULL,
     "indicators.csv:11: kpi_value needs the KPI id as a quoted literal, so the plan can order it",
     ""},
    {"Y", "x -- kpi_value(\"Q\")", NULL, NULL, ""},
    {"Z", "kpi_value(\"A\") + kpi_value('A') + kpi_value(\"V\")", NULL, NULL, "A V"},
    {"SC", "x", "kpi_value('A')",
     "indicators.csv:14: a scoring expression cannot call kpi_value; read the other KPI in the "
     "formula",
     ""},
    {"N", "kpi_value('NOPE')", NULL, "indicators.csv:15: kpi_value: no KPI 'NOPE'", ""},
    {"B1", "kpi_value('B2')", NULL, "indicators.csv:16: dependency cycle: B1 -> B2 -> B1", "B2"},
    {"B2", "kpi_value('B1') + kpi_value('B3')", NULL,
     "indicators.csv:17: dependency cycle: B2 -> B1 -> B2", "B1 B3"},
    {"B3", "kpi_value('B2')", NULL, "indicators.csv:18: dependency cycle: B3 -> B2 -> B3", "B2"},
};
#define N_COMPOSITE (sizeof composite_rows / sizeof composite_rows[0])

static kpi_dataset *build_composites(bool reversed)
{
    kpi_builder *b = builder_new();
    for (size_t n = 0; n < N_COMPOSITE; n++) {
        size_t i = reversed ? N_COMPOSITE - 1 - n : n;
        const struct composite_row *row = &composite_rows[i];
        add_indicator(b, &(struct kpi_indicator_spec){.id = row->id,
                                                      .name = row->id,
                                                      .department = i % 2 ? "d" : "e",
                                                      .target = "1",
                                                      .formula = row->formula,
                                                      .scoring = row->scoring,
                                                      .line = (unsigned)i + 2});
    }
    add_actual(b, "A", "x", "1");
    return finish(b);
}

static void test_builder_composite_dependencies(void **state)
{
    (void)state;
    for (int reversed = 0; reversed < 2; reversed++) { /* whatever the order of the rows */
        kpi_dataset *ds = build_composites(reversed);
        size_t n_warnings;
        const char *const *warnings = kpi_dataset_warnings(ds, &n_warnings, NULL);
        for (size_t i = 0; i < N_COMPOSITE; i++) {
            const struct composite_row *row = &composite_rows[i];
            const struct kpi_indicator *k = kpi_dataset_find(ds, row->id);
            char deps[64] = "";
            assert_non_null(k);
            if ((row->invalid == NULL) != (k->invalid == NULL) ||
                (row->invalid && strcmp(row->invalid, k->invalid)))
                fail_msg("%s: invalid '%s', expected '%s'", row->id,
                         k->invalid ? k->invalid : "(none)",
                         row->invalid ? row->invalid : "(none)");
            for (unsigned d = 0; d < k->n_deps; d++) {
                size_t used = strlen(deps);
                snprintf(deps + used, sizeof deps - used, "%s%s", d ? " " : "", k->deps[d]);
                /* a dependency is the id of the KPI itself */
                assert_ptr_equal(k->deps[d], kpi_dataset_find(ds, k->deps[d])->id);
            }
            assert_string_equal(deps, row->deps);
        }
        /* A KPI that reads others needs no rows of its own. */
        for (size_t w = 0; w < n_warnings; w++)
            assert_null(strstr(warnings[w], "'V' has no rows"));
        kpi_dataset_free(ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_builds_what_the_loader_loads),
        cmocka_unit_test(test_builder_invalid_reasons),
        cmocka_unit_test(test_builder_cell_problems_make_kpis_invalid),
        cmocka_unit_test(test_builder_duplicate_id_stops),
        cmocka_unit_test(test_builder_refuses_misuse),
        cmocka_unit_test(test_builder_find_by_id_after_sort_and_shard),
        cmocka_unit_test(test_builder_composite_dependencies),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
