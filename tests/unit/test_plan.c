/* Unit tests of the evaluation plan (plan.h): levels that hold every KPI
 * of the dataset exactly once, as indices into the report order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/builder.h"
#include "kpieval/plan.h"

/* n KPIs over a few departments, added in reverse. */
static kpi_dataset *dataset_of(size_t n)
{
    static const char *const departments[] = {"b", "a", "a/c", "d"};
    struct kpi_error err = {0};
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;
    char id[32];

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    for (size_t i = n; i-- > 0;) {
        snprintf(id, sizeof id, "K%03zu", i);
        struct kpi_indicator_spec spec = {
            .id = id, .name = "n", .department = departments[i % 4], .target = "1", .formula = "x"};
        if (kpi_builder_add_indicator(b, &spec, &err))
            fail_msg("%s", err.message);
    }
    if (kpi_builder_finish(b, &ds, &err))
        fail_msg("%s", err.message);
    kpi_builder_free(b);
    return ds;
}

/* Every KPI of ds in exactly one level, each level ascending. */
static void assert_every_kpi_once(const kpi_dataset *ds, const kpi_plan *plan)
{
    size_t n_kpis, total = 0;
    kpi_dataset_indicators(ds, &n_kpis);
    unsigned char *seen = calloc(n_kpis ? n_kpis : 1, 1);
    assert_non_null(seen);
    assert_true(kpi_plan_levels(plan) >= 1);
    for (size_t l = 0; l < kpi_plan_levels(plan); l++) {
        size_t n;
        const unsigned *kpis = kpi_plan_level(plan, l, &n);
        for (size_t i = 0; i < n; i++) {
            assert_true(kpis[i] < n_kpis);
            assert_false(seen[kpis[i]]);
            seen[kpis[i]] = 1;
            if (i > 0)
                assert_true(kpis[i - 1] < kpis[i]);
        }
        total += n;
    }
    assert_int_equal(total, n_kpis);
    free(seen);
}

static void test_plan_independent_kpis_are_one_level(void **state)
{
    static const size_t sizes[] = {1, 2, 7, 1000};
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        kpi_dataset *ds = dataset_of(sizes[s]);
        kpi_plan *plan = NULL;
        struct kpi_error err = {0};
        size_t n;
        assert_int_equal(kpi_plan_new(ds, &plan, &err), 0);
        assert_int_equal(kpi_plan_levels(plan), 1);
        const unsigned *kpis = kpi_plan_level(plan, 0, &n);
        assert_int_equal(n, sizes[s]);
        for (size_t i = 0; i < n; i++) /* report order */
            assert_int_equal(kpis[i], i);
        assert_every_kpi_once(ds, plan);
        kpi_plan_free(plan);
        kpi_dataset_free(ds);
    }
}

/* After keep_shard the plan covers the shard's KPIs, not the whole plan's. */
static void test_plan_covers_a_shard(void **state)
{
    kpi_dataset *ds = dataset_of(40);
    kpi_plan *plan = NULL;
    struct kpi_error err = {0};
    size_t n;
    (void)state;

    unsigned count = 2; /* a count that puts "a" and "b" apart */
    while (kpi_shard_of("a", count) == kpi_shard_of("b", count))
        count++;
    assert_int_equal(kpi_dataset_keep_shard(ds, kpi_shard_of("a", count), count, &err), 0);
    kpi_dataset_indicators(ds, &n);
    assert_true(n < 40);
    assert_int_equal(kpi_plan_new(ds, &plan, &err), 0);
    assert_every_kpi_once(ds, plan);
    kpi_plan_free(plan);
    kpi_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_independent_kpis_are_one_level),
        cmocka_unit_test(test_plan_covers_a_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
