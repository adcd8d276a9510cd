/* Unit tests of trial.c: formulas tried on inputs given by hand give what a
 * run gives, with the standard formulas; expected values worked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/trial.h"
#include "scratch.h"

static const char *const stdlib[] = {KPIEVAL_SOURCE_DIR "/formulas"};
static const struct kpi_trial_options with_stdlib = {stdlib, 1, 0, 0, 0, 0};

static void test_trial_value_and_achievement(void **state)
{
    (void)state;
    struct kpi_trial_input in[] = {{"employed", "2150"}, {"eligible", "3265"}};
    struct kpi_trial_case cases[] = {
        {.id = "a", .formula = "ratio(employed, eligible)", .inputs = in, .n_inputs = 2},
        /* 50 against a target of 40: 125, capped at 120, exceeded */
        {.id = "b", .formula = "x", .inputs = (struct kpi_trial_input[]){{"x", "50"}},
         .n_inputs = 1, .target = "40"},
        /* decrease: target / actual = 5 / 10 = 50, below */
        {.id = "c", .formula = "x", .inputs = (struct kpi_trial_input[]){{"x", "10"}},
         .n_inputs = 1, .target = "5", .direction = "decrease"},
    };
    struct kpi_trial_result r[3];
    struct kpi_error err;

    assert_int_equal(kpi_trial_run(&with_stdlib, cases, 3, r, &err), 0);
    assert_int_equal(r[0].status, KPI_STATUS_OK);
    assert_float_equal(r[0].value, 2150.0 / 3265.0 * 100, 1e-12);
    assert_false(r[0].scored);
    assert_true(r[1].scored);
    assert_float_equal(r[1].achievement, 125, 1e-12);
    assert_float_equal(r[1].achievement_capped, 120, 1e-12);
    assert_int_equal(r[1].band, KPI_BAND_EXCEEDED);
    assert_float_equal(r[2].achievement, 50, 1e-12);
    assert_int_equal(r[2].band, KPI_BAND_BELOW);
}

static void test_trial_failures_are_results(void **state)
{
    (void)state;
    struct kpi_trial_case cases[] = {
        {.id = "zero", .formula = "ratio(5, 0)"},
        {.id = "absent", .formula = "a + b", .inputs = (struct kpi_trial_input[]){{"a", "1"}},
         .n_inputs = 1},
        {.id = "syntax", .formula = "ratio(1, 2"},
        {.id = "loop", .formula = "(function() while true do end end)()"},
    };
    struct kpi_trial_options opt = with_stdlib;
    struct kpi_trial_result r[4];
    struct kpi_error err;

    opt.instruction_limit = 10000;
    assert_int_equal(kpi_trial_run(&opt, cases, 4, r, &err), 0);
    assert_int_equal(r[0].status, KPI_STATUS_ERROR);
    assert_string_equal(r[0].message, "zero:1: ratio: whole is 0");
    assert_int_equal(r[1].status, KPI_STATUS_MISSING);
    assert_string_equal(r[1].message, "input 'b' missing for 'absent'");
    assert_int_equal(r[2].status, KPI_STATUS_INVALID);
    assert_string_equal(r[2].message, "syntax:1: ')' expected near <eof>");
    assert_int_equal(r[3].status, KPI_STATUS_ERROR);
    assert_string_equal(r[3].message,
                        "loop: formula stopped: instruction limit of 10000 exceeded");
}

static void test_trial_bad_cell_without_file_line(void **state)
{
    (void)state;
    struct kpi_trial_case c = {.id = "k", .formula = "1", .target = "2", .scoring = "baseline"};
    struct kpi_trial_result r;
    struct kpi_error err;

    assert_int_equal(kpi_trial_run(&with_stdlib, &c, 1, &r, &err), 0);
    assert_int_equal(r.status, KPI_STATUS_INVALID);
    assert_string_equal(r.message, "scoring 'baseline' needs a baseline, and it is empty");
}

static void test_trial_parse_input(void **state)
{
    (void)state;
    struct kpi_trial_input in;
    struct kpi_error err;
    char ok[] = " employed = 12.5 ", no_eq[] = "employed", bad_name[] = "1x=2",
         bad_value[] = "x=abc";

    assert_int_equal(kpi_trial_parse_input(ok, &in, &err), 0);
    assert_string_equal(in.name, "employed");
    assert_string_equal(in.value, "12.5");
    assert_int_equal(kpi_trial_parse_input(no_eq, &in, &err), KPI_EUSAGE);
    assert_string_equal(err.message, "input 'employed': expected name=value");
    assert_int_equal(kpi_trial_parse_input(bad_name, &in, &err), KPI_EUSAGE);
    assert_true(scratch_starts_with(err.message, "input '1x': the name is not a Lua identifier"));
    assert_int_equal(kpi_trial_parse_input(bad_value, &in, &err), KPI_EUSAGE);
    assert_true(scratch_starts_with(err.message, "input 'x': value 'abc' "));
}

static void test_trial_bad_id_is_usage(void **state)
{
    (void)state;
    struct kpi_trial_case c = {.id = "a b", .formula = "1"};
    struct kpi_trial_result r;
    struct kpi_error err;

    assert_int_equal(kpi_trial_run(&with_stdlib, &c, 1, &r, &err), KPI_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trial_value_and_achievement),
        cmocka_unit_test(test_trial_failures_are_results),
        cmocka_unit_test(test_trial_bad_cell_without_file_line),
        cmocka_unit_test(test_trial_parse_input),
        cmocka_unit_test(test_trial_bad_id_is_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
