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

/* A dataset of (id, department, formula) rows, in the order given. */
struct row {
    const char *id, *department, *formula;
};

static kpi_dataset *dataset_from(const struct row *rows, size_t n)
{
    struct kpi_error err = {0};
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    for (size_t i = 0; i < n; i++) {
        struct kpi_indicator_spec spec = {.id = rows[i].id,
                                          .name = "n",
                                          .department = rows[i].department,
                                          .target = "1",
                                          .formula = rows[i].formula};
        if (kpi_builder_add_indicator(b, &spec, &err))
            fail_msg("%s", err.message);
    }
    if (kpi_builder_finish(b, &ds, &err))
        fail_msg("%s", err.message);
    kpi_builder_free(b);
    return ds;
}

/* The ids of level l, joined by ' '. */
static const char *level_ids(const kpi_dataset *ds, const kpi_plan *plan, size_t l, char *buf,
                             size_t size)
{
    size_t n, n_all;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_all);
    const unsigned *kpis = kpi_plan_level(plan, l, &n);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? " " : "", ks[kpis[i]].id);
    }
    return buf;
}

/* Report order is a, b, c, then by id: A B | C D | E. Worked out by hand:
 * A and D read nothing (0); B reads A and E reads D (1); C reads B and A
 * (one above B: 2). */
static void test_plan_composites_in_levels(void **state)
{
    static const struct row rows[] = {
        {"E", "c", "kpi_value('D')"},
        {"C", "b", "kpi_value('B') + kpi_value('A')"},
        {"D", "b", "y"},
        {"B", "a", "kpi_value(\"A\") * 2"},
        {"A", "a", "x"},
    };
    kpi_dataset *ds = dataset_from(rows, sizeof rows / sizeof rows[0]);
    kpi_plan *plan = NULL;
    struct kpi_error err = {0};
    char buf[64];
    (void)state;

    assert_int_equal(kpi_plan_new(ds, &plan, &err), 0);
    assert_int_equal(kpi_plan_levels(plan), 3);
    assert_string_equal(level_ids(ds, plan, 0, buf, sizeof buf), "A D");
    assert_string_equal(level_ids(ds, plan, 1, buf, sizeof buf), "B E");
    assert_string_equal(level_ids(ds, plan, 2, buf, sizeof buf), "C");
    assert_every_kpi_once(ds, plan);
    kpi_plan_free(plan);
    kpi_dataset_free(ds);
}

/* The KPIs of a cycle are invalid and read nothing: level 0. A KPI that
 * reads one of them is one level above (and `error` when it runs); so is
 * a KPI that reads an invalid one. */
static void test_plan_cycles_read_nothing(void **state)
{
    static const struct row rows[] = {
        {"P", "a", "kpi_value('Q')"}, {"Q", "a", "kpi_value('P')"},
        {"S", "a", "kpi_value('S')"}, {"V", "a", "kpi_value('P') + kpi_value('W')"},
        {"W", "a", "kpi_value(w)"},   {"X", "a", "kpi_value('V')"},
    };
    kpi_dataset *ds = dataset_from(rows, sizeof rows / sizeof rows[0]);
    kpi_plan *plan = NULL;
    struct kpi_error err = {0};
    char buf[64];
    (void)state;

    assert_int_equal(kpi_plan_new(ds, &plan, &err), 0);
    assert_int_equal(kpi_plan_levels(plan), 3);
    assert_string_equal(level_ids(ds, plan, 0, buf, sizeof buf), "P Q S W");
    assert_string_equal(level_ids(ds, plan, 1, buf, sizeof buf), "V");
    assert_string_equal(level_ids(ds, plan, 2, buf, sizeof buf), "X");
    assert_every_kpi_once(ds, plan);
    kpi_plan_free(plan);
    kpi_dataset_free(ds);
}

/* A chain of 100,000 KPIs, each reading the one before: as many levels,
 * built in linear time (no recursion, no pairwise search). */
static void test_plan_long_chain(void **state)
{
    enum { N = 100000 };
    struct row *rows = calloc(N, sizeof *rows);
    char(*ids)[16] = calloc(N, sizeof *ids), (*formulas)[40] = calloc(N, sizeof *formulas);
    (void)state;

    assert_true(rows && ids && formulas);
    for (size_t i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "K%06zu", i);
        if (i)
            snprintf(formulas[i], sizeof formulas[i], "kpi_value('K%06zu') + 1", i - 1);
        else
            snprintf(formulas[i], sizeof formulas[i], "x");
        rows[i] = (struct row){ids[i], "a", formulas[i]};
    }
    kpi_dataset *ds = dataset_from(rows, N);
    kpi_plan *plan = NULL;
    struct kpi_error err = {0};
    assert_int_equal(kpi_plan_new(ds, &plan, &err), 0);
    assert_int_equal(kpi_plan_levels(plan), N);
    for (size_t l = 0; l < N; l += 9999) {
        size_t n;
        const unsigned *kpis = kpi_plan_level(plan, l, &n);
        assert_int_equal(n, 1);
        assert_int_equal(kpis[0], l);
    }
    kpi_plan_free(plan);
    kpi_dataset_free(ds);
    free(rows);
    free(ids);
    free(formulas);
}

/* A shard keeps a composite KPI with what it reads, transitively: c reads
 * b, which reads a, so a, b and c go to a's shard (the first name), d to
 * its own; the shard's plan is the whole plan's three levels. */
static void test_plan_shard_keeps_dependencies_together(void **state)
{
    static const struct row rows[] = {
        {"KA", "a", "x"},
        {"KB", "b/sub", "kpi_value('KA') + 1"},
        {"KC", "c", "kpi_value('KB') * 2"},
        {"KD", "d", "y"},
    };
    unsigned count = 2; /* a count that hashes a, b and c apart from each other's shard */
    while (kpi_shard_of("a", count) == kpi_shard_of("b", count) ||
           kpi_shard_of("a", count) == kpi_shard_of("c", count))
        count++;
    (void)state;
    for (unsigned index = 1; index <= count; index++) {
        kpi_dataset *ds = dataset_from(rows, sizeof rows / sizeof rows[0]);
        struct kpi_error err = {0};
        kpi_plan *plan = NULL;
        size_t n;
        char ids[32] = "";
        assert_int_equal(kpi_dataset_keep_shard(ds, index, count, &err), 0);
        const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
        for (size_t i = 0; i < n; i++)
            snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s ", ks[i].id);
        char expected[32] = "";
        if (index == kpi_shard_of("a", count))
            strcat(expected, "KA KB KC ");
        if (index == kpi_shard_of("d", count))
            strcat(expected, "KD ");
        assert_string_equal(ids, expected);
        assert_int_equal(kpi_plan_new(ds, &plan, &err), 0);
        if (index == kpi_shard_of("a", count))
            assert_int_equal(kpi_plan_levels(plan), 3);
        kpi_plan_free(plan);
        kpi_dataset_free(ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_independent_kpis_are_one_level),
        cmocka_unit_test(test_plan_covers_a_shard),
        cmocka_unit_test(test_plan_composites_in_levels),
        cmocka_unit_test(test_plan_cycles_read_nothing),
        cmocka_unit_test(test_plan_long_chain),
        cmocka_unit_test(test_plan_shard_keeps_dependencies_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
