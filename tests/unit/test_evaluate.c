/* Unit tests of evaluation (evaluate.h) on a dataset built in memory
 * (builder.h): formulas run in process and in worker processes, level by
 * level as the run walks its plan, then scored by kpi_score(). Expected
 * numbers are worked out by hand beside each KPI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/builder.h"
#include "kpieval/evaluate.h"
#include "kpieval/plan.h"
#include "kpieval/score.h"
#include "scratch.h"

#define CAP 120.0

struct expected {
    const char *id;
    enum kpi_status status;
    double actual; /* when has_actual */
    bool has_actual;
    double achievement; /* when ok */
    double capped;
};

static const struct expected expected[] = {
    /* 650 / 1000 * 100 = 65; ratio 65 / 65 * 100 = 100 */
    {"E1", KPI_STATUS_OK, 65, true, 100, 100},
    /* 3 + 4.5 = 7.5; decrease ratio 10 / 7.5 * 100 = 133.33..., capped at 120 */
    {"E2", KPI_STATUS_OK, 7.5, true, 400.0 / 3, 120},
    /* z is no input of E3 */
    {"E3", KPI_STATUS_MISSING, 0, false, 0, 0},
    /* 1 / 0 is inf, not a finite number */
    {"E4", KPI_STATUS_ERROR, 0, false, 0, 0},
    /* actual 8; the expression 8 / 16 * 50 = 25 */
    {"E5", KPI_STATUS_OK, 8, true, 25, 25},
    /* target 'abc' */
    {"E6", KPI_STATUS_INVALID, 0, false, 0, 0},
    /* baseline rule (50 - 20) / (60 - 20) * 100 = 75 */
    {"E7", KPI_STATUS_OK, 50, true, 75, 75},
};
#define N_KPIS (sizeof expected / sizeof expected[0])

static kpi_dataset *build(void)
{
    static const struct kpi_indicator_spec specs[] = {
        {.id = "E1",
         .name = "취업률",
         .department = "d",
         .unit = "%",
         .target = "65",
         .formula = "employed / eligible * 100"},
        {.id = "E2",
         .name = "two",
         .department = "d",
         .direction = "decrease",
         .target = "10",
         .formula = "x + y"},
        {.id = "E3", .name = "three", .department = "d", .target = "1", .formula = "z"},
        {.id = "E4", .name = "four", .department = "d", .target = "1", .formula = "x / 0"},
        {.id = "E5",
         .name = "five",
         .department = "d",
         .target = "16",
         .formula = "a",
         .scoring = "actual / target * 50"},
        {.id = "E6", .name = "six", .department = "d", .target = "abc", .formula = "1"},
        {.id = "E7",
         .name = "seven",
         .department = "d",
         .baseline = "20",
         .target = "60",
         .formula = "v",
         .scoring = "baseline"},
    };
    static const struct kpi_actual_spec actuals[] = {
        {"E1", "employed", "650", 0}, {"E1", "eligible", "1000", 0}, {"E2", "x", "3", 0},
        {"E2", "y", "4.5", 0},        {"E4", "x", "1", 0},           {"E5", "a", "8", 0},
        {"E7", "v", "50", 0},
    };
    struct kpi_error err = {0};
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        if (kpi_builder_add_indicator(b, &specs[i], &err))
            fail_msg("%s", err.message);
    }
    for (size_t i = 0; i < sizeof actuals / sizeof actuals[0]; i++)
        assert_int_equal(kpi_builder_add_actual(b, &actuals[i], &err), 0);
    if (kpi_builder_finish(b, &ds, &err))
        fail_msg("%s", err.message);
    kpi_builder_free(b);
    return ds;
}

static void check_row(const struct expected *e, const struct kpi_indicator *k,
                      const struct kpi_result *r)
{
    assert_string_equal(k->id, e->id);
    if (r->status != e->status)
        fail_msg("%s: status %s, expected %s (%s)", e->id, kpi_status_name(r->status),
                 kpi_status_name(e->status), r->message ? r->message : "no message");
    assert_int_equal(r->has_actual, e->has_actual);
    if (e->has_actual)
        assert_near(r->actual, e->actual, 1e-12);
    if (e->status == KPI_STATUS_OK) {
        assert_null(r->message);
        assert_near(r->achievement, e->achievement, 1e-9);
        assert_near(r->achievement_capped, e->capped, 1e-9);
    } else {
        assert_non_null(r->message);
    }
}

/* Evaluates in two levels, {E1, E3, E5} then the rest, scoring each level
 * as soon as it is in, as run.c does. */
static void evaluate_in_levels(bool in_process, unsigned jobs)
{
    static const unsigned first[] = {0, 2, 4}, second[] = {1, 3, 5, 6};
    struct kpi_eval_options opt = {.in_process = in_process, .jobs = jobs};
    struct kpi_error err = {0};
    kpi_results *res = NULL;
    kpi_dataset *ds = build();
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);

    assert_int_equal(n, N_KPIS);
    if (kpi_evaluate_begin(ds, &opt, &res, &err))
        fail_msg("begin: %s", err.message);
    struct kpi_result *rows = kpi_results_rows(res, &n);
    assert_int_equal(kpi_evaluate_kpis(res, first, 3, &err), 0);
    for (size_t i = 0; i < 3; i++)
        kpi_score(&ks[first[i]], &rows[first[i]], CAP);
    for (size_t i = 0; i < 4; i++) /* not evaluated yet */
        assert_false(rows[second[i]].has_actual);
    for (size_t i = 0; i < 3; i++) /* in and scored before the second level starts */
        check_row(&expected[first[i]], &ks[first[i]], &rows[first[i]]);
    assert_int_equal(kpi_evaluate_kpis(res, second, 4, &err), 0);
    for (size_t i = 0; i < 4; i++)
        kpi_score(&ks[second[i]], &rows[second[i]], CAP);
    kpi_evaluate_end(res);
    /* The first level's rows are as they were scored. */
    for (size_t i = 0; i < N_KPIS; i++)
        check_row(&expected[i], &ks[i], &rows[i]);
    assert_string_equal(rows[5].message, "indicators.csv:7: target 'abc' is not a number");
    kpi_results_free(res);
    kpi_dataset_free(ds);
}

static void test_evaluate_levels_in_process(void **state)
{
    (void)state;
    evaluate_in_levels(true, 0);
}

static void test_evaluate_levels_in_workers(void **state)
{
    (void)state;
    evaluate_in_levels(false, 2);
}

/* kpi_evaluate(): every KPI in one call. */
static void test_evaluate_all_at_once(void **state)
{
    struct kpi_eval_options opt = {.jobs = 3};
    struct kpi_error err = {0};
    kpi_results *res = NULL;
    kpi_dataset *ds = build();
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    (void)state;

    if (kpi_evaluate(ds, &opt, &res, &err))
        fail_msg("%s", err.message);
    struct kpi_result *rows = kpi_results_rows(res, &n);
    assert_int_equal(n, N_KPIS);
    for (size_t i = 0; i < n; i++) {
        kpi_score(&ks[i], &rows[i], CAP);
        check_row(&expected[i], &ks[i], &rows[i]);
    }
    kpi_results_free(res);
    kpi_dataset_free(ds);
}

/* ---- composite KPIs ------------------------------------------------------ */

static const struct {
    const char *id, *target, *formula;
} composites[] = {
    {"C1", "65", "employed / eligible * 100"},           /* 1317 / 2000 * 100 = 65.85 */
    {"C2", "100", "kpi_value(\"C1\") * 2"},              /* 131.7 */
    {"C3", "50", "kpi_value('C2') - kpi_value(\"C1\")"}, /* 131.7 - 65.85 = 65.85 */
    {"C4", "1", "zz"},                                   /* missing */
    {"C5", "1", "kpi_value('C4') + 1"},
    {"C6", "1", "kpi_value('C5')"},
    {"C7", "1", "_ENV.kpi_value('C1')"}, /* not found by the scanner: no dependency */
    {"C8", "-5", "1"},                   /* the ratio rule cannot score it */
    {"C9", "1", "kpi_value('C8')"},
};

/* Walks the plan as run.c does: a level evaluated, then scored. */
static void evaluate_composites(bool in_process)
{
    struct kpi_eval_options opt = {.in_process = in_process, .jobs = 2};
    struct kpi_error err = {0};
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;
    kpi_results *res = NULL;
    kpi_plan *plan = NULL;
    size_t n;

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    for (size_t i = 0; i < sizeof composites / sizeof composites[0]; i++) {
        struct kpi_indicator_spec spec = {.id = composites[i].id,
                                          .name = "n",
                                          .department = "a",
                                          .target = composites[i].target,
                                          .formula = composites[i].formula};
        assert_int_equal(kpi_builder_add_indicator(b, &spec, &err), 0);
    }
    struct kpi_actual_spec employed = {"C1", "employed", "1317", 0},
                           eligible = {"C1", "eligible", "2000", 0};
    assert_int_equal(kpi_builder_add_actual(b, &employed, &err), 0);
    assert_int_equal(kpi_builder_add_actual(b, &eligible, &err), 0);
    assert_int_equal(kpi_builder_finish(b, &ds, &err), 0);
    kpi_builder_free(b);
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);

    if (kpi_evaluate_begin(ds, &opt, &res, &err) || kpi_plan_new(ds, &plan, &err))
        fail_msg("%s", err.message);
    struct kpi_result *rows = kpi_results_rows(res, &n);
    assert_int_equal(kpi_plan_levels(plan), 3); /* C1 C4 C7 C8 | C2 C5 C9 | C3 C6 */
    for (size_t l = 0; l < kpi_plan_levels(plan); l++) {
        size_t m;
        const unsigned *kpis = kpi_plan_level(plan, l, &m);
        assert_int_equal(kpi_evaluate_kpis(res, kpis, m, &err), 0);
        for (size_t i = 0; i < m; i++)
            kpi_score(&ks[kpis[i]], &rows[kpis[i]], CAP);
    }
    kpi_evaluate_end(res);

    assert_int_equal(rows[0].status, KPI_STATUS_OK);
    assert_near(rows[0].actual, 65.85, 1e-12);
    assert_int_equal(rows[1].status, KPI_STATUS_OK);
    assert_near(rows[1].actual, 131.7, 1e-12);
    assert_near(rows[1].achievement, 131.7, 1e-9);
    assert_int_equal(rows[2].status, KPI_STATUS_OK);
    assert_near(rows[2].actual, 65.85, 1e-12);
    assert_int_equal(rows[3].status, KPI_STATUS_MISSING);
    assert_int_equal(rows[4].status, KPI_STATUS_ERROR);
    assert_false(rows[4].has_actual);
    assert_string_equal(rows[4].message, "dependency 'C4' is missing: input 'zz' missing for 'C4'");
    assert_int_equal(rows[5].status, KPI_STATUS_ERROR);
    assert_string_equal(rows[5].message, "dependency 'C5' is in error: dependency 'C4' is "
                                         "missing: input 'zz' missing for 'C4'");
    assert_int_equal(rows[6].status, KPI_STATUS_ERROR);
    assert_non_null(strstr(rows[6].message, "kpi_value: 'C1' is not among the KPIs this "
                                            "formula names as a quoted literal"));
    assert_int_equal(rows[7].status, KPI_STATUS_ERROR); /* scored before C9 read it */
    assert_int_equal(rows[8].status, KPI_STATUS_ERROR);
    assert_non_null(strstr(rows[8].message, "dependency 'C8' is in error: cannot score"));
    kpi_plan_free(plan);
    kpi_results_free(res);
    kpi_dataset_free(ds);
}

static void test_evaluate_composites_in_process(void **state)
{
    (void)state;
    evaluate_composites(true);
}

static void test_evaluate_composites_in_workers(void **state)
{
    (void)state;
    evaluate_composites(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evaluate_levels_in_process),
        cmocka_unit_test(test_evaluate_levels_in_workers),
        cmocka_unit_test(test_evaluate_all_at_once),
        cmocka_unit_test(test_evaluate_composites_in_process),
        cmocka_unit_test(test_evaluate_composites_in_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
