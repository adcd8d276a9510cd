/* Unit tests for engine/run.c: the pipeline's promises to its caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/run.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "run");
    return 0;
}

/* Three KPIs: K1 ok (4/5 = 80 %), K2 error (a division of a string), K3
 * missing (no input). */
static const char *dataset(char dir[SCRATCH_PATH_MAX], const char *name)
{
    return scratch_dataset(dir, tmp, name,
                           "id,name,department,target,formula\n"
                           "K1,a,본부/과,5,x\n"
                           "K2,b,본부/과,5,\"'a' / x\"\n"
                           "K3,c,본부,5,y\n",
                           "indicator,input,value\nK1,x,4\nK2,x,1\n");
}

static void options(struct kpi_run_options *opt, const char *dir)
{
    struct kpi_error err = {0};
    memset(opt, 0, sizeof *opt);
    opt->dataset = dir;
    opt->cap = 120;
    opt->in_process = true;
    if (kpi_grades_parse(KPI_DEFAULT_GRADES, &opt->grades, &err) != 0)
        fail_msg("grades: %s", err.message);
}

/* The phases, in the order the observer heard them. */
struct heard {
    char order[64];
    size_t items[KPI_PHASE_COUNT];
};

static void heard_start(void *ctx, enum kpi_phase phase)
{
    struct heard *h = ctx;
    size_t n = strlen(h->order);
    snprintf(h->order + n, sizeof h->order - n, "%s<", kpi_phase_name(phase));
}

static void heard_end(void *ctx, enum kpi_phase phase, double seconds, size_t items)
{
    struct heard *h = ctx;
    size_t n = strlen(h->order);
    (void)seconds;
    snprintf(h->order + n, sizeof h->order - n, ">");
    h->items[phase] = items;
}

static void test_run_writes_the_report_and_tells_each_phase(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_run_options opt;
    struct kpi_run run;
    struct kpi_error err = {0};
    struct heard h = {"", {0}};
    struct kpi_run_observer obs = {&h, heard_start, heard_end, NULL};
    (void)state;

    options(&opt, dataset(dir, "ds"));
    opt.out = scratch_join(out, tmp, "out");
    opt.observer = &obs;
    kpi_run_init(&run);
    assert_int_equal(kpi_run_execute(&opt, &run, &err), 0);
    assert_string_equal(h.order, "load<>evaluate<>score<>rollup<>write<>");
    assert_int_equal(h.items[KPI_PHASE_LOAD], 3);
    assert_int_equal(h.items[KPI_PHASE_ROLLUP], 2); /* 본부 and 본부/과 */
    assert_int_equal(run.overall.kpis, 3);
    assert_int_equal(run.overall.count[KPI_STATUS_OK], 1);
    assert_int_equal(run.overall.count[KPI_STATUS_ERROR], 1);
    assert_int_equal(run.overall.count[KPI_STATUS_MISSING], 1);
    /* Only K1 is ok: 4 / 5 = 80 %; the error and the missing KPI count
     * as 0 at weight 1 each (the default policy): 80 / 3. */
    assert_true(run.overall.has_achievement);
    assert_true(run.overall.achievement == 80.0 / 3);
    assert_true(run.overall.coverage == 1.0 / 3);
    assert_true(scratch_exists(scratch_join(path, out, "report.json")));
    kpi_run_release(&run);
}

/* More KPIs in error than max_errors: KPI_ELIMIT, the run's rows filled
 * in for the caller to show, and no report, the earlier one untouched. */
static void test_run_max_errors_writes_nothing(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_run_options opt;
    struct kpi_run run;
    struct kpi_error err = {0};
    (void)state;

    options(&opt, dataset(dir, "ds-max"));
    opt.out = scratch_join(out, tmp, "max/deeper/out");
    opt.has_max_errors = true;
    opt.max_errors = 0;
    kpi_run_init(&run);
    assert_int_equal(kpi_run_execute(&opt, &run, &err), KPI_ELIMIT);
    assert_non_null(strstr(err.message, "1 KPIs are in error"));
    assert_int_equal(run.overall.count[KPI_STATUS_ERROR], 1);
    /* Nothing at all: not the folder, not the ones above it. */
    assert_false(scratch_exists(scratch_join(path, tmp, "max")));
    kpi_run_release(&run);

    /* One allowed: written. */
    opt.max_errors = 1;
    kpi_run_init(&run);
    assert_int_equal(kpi_run_execute(&opt, &run, &err), 0);
    assert_true(scratch_exists(scratch_join(path, out, "kpis.csv")));
    kpi_run_release(&run);
}

/* The standard formulas reported missing by the caller: the run stops
 * before anything, saying where it looked, and writes nothing. */
static void test_run_stdlib_missing_stops_first(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_run_options opt;
    struct kpi_run run;
    struct kpi_error err = {0};
    (void)state;

    options(&opt, dataset(dir, "ds-lib"));
    opt.out = scratch_join(out, tmp, "lib/out");
    opt.stdlib_missing = "looked in /nowhere/formulas";
    kpi_run_init(&run);
    assert_int_equal(kpi_run_execute(&opt, &run, &err), KPI_EPLUGIN);
    assert_non_null(strstr(err.message, "/nowhere/formulas"));
    assert_false(scratch_exists(scratch_join(path, tmp, "lib")));
    kpi_run_release(&run);
}

/* A dataset that cannot be loaded: its error, and nothing written. */
static void test_run_bad_dataset_writes_nothing(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_run_options opt;
    struct kpi_run run;
    struct kpi_error err = {0};
    (void)state;

    scratch_dataset(dir, tmp, "ds-bad", "id,name,department,target,formula\nK1,a,본부,5\n",
                    "indicator,input,value\nK1,x,4\n");
    options(&opt, dir);
    opt.out = scratch_join(out, tmp, "bad/out");
    kpi_run_init(&run);
    assert_int_equal(kpi_run_execute(&opt, &run, &err), KPI_EINPUT);
    assert_non_null(strstr(err.message, "indicators.csv:2"));
    assert_false(scratch_exists(scratch_join(path, tmp, "bad")));
    kpi_run_release(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_writes_the_report_and_tells_each_phase),
        cmocka_unit_test(test_run_max_errors_writes_nothing),
        cmocka_unit_test(test_run_stdlib_missing_stops_first),
        cmocka_unit_test(test_run_bad_dataset_writes_nothing),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
