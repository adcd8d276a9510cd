/* Unit tests of formula_test.c: a tests file read, run and judged; each
 * malformed file named at file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/formula_test.h"
#include "scratch.h"

static const char *const stdlib[] = {KPIEVAL_SOURCE_DIR "/formulas"};
static const struct kpi_trial_options with_stdlib = {stdlib, 1, 0, 0, 0, 0};

static int load(const char *text, kpi_formula_tests **t, struct kpi_error *err)
{
    char dir[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    scratch_fresh_dir(dir, "formula-test");
    scratch_write(scratch_join(path, dir, "tests.csv"), text);
    return kpi_formula_tests_load(path, "tests.csv", t, err);
}

static void test_formula_test_judges(void **state)
{
    (void)state;
    kpi_formula_tests *t;
    struct kpi_error err;
    size_t n;

    assert_int_equal(load("expect,name,formula,inputs,tolerance\n"
                          "25,quarter,\"ratio(a, b)\",a=1; b=4,\n"
                          "26,off by one,\"ratio(a, b)\",a=1; b=4,\n"
                          "26,within tolerance,\"ratio(a, b)\",a=1; b=4,1\n"
                          "error: whole is 0,zero,\"ratio(1, 0)\",,\n"
                          "error: plan is 0,wrong error,\"ratio(1, 0)\",,\n"
                          "missing: b,absent,\"ratio(a, b)\",a=1,\n"
                          "missing: c,other absent,\"ratio(a, b)\",a=1,\n"
                          /* an error is no value, not even the 0 it leaves */
                          "0,error for a value,\"ratio(1, 0)\",,\n",
                          &t, &err),
                     0);
    assert_int_equal(kpi_formula_tests_run(t, &with_stdlib, &err), 0);
    struct kpi_formula_test *c = kpi_formula_tests_cases(t, &n);
    assert_int_equal(n, 8);
    const bool passed[] = {true, false, true, true, false, true, false, false};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c[i].passed, passed[i]);
    assert_int_equal(c[1].line, 3);
    assert_float_equal(c[1].tolerance, 26e-9, 1e-18);
    assert_string_equal(c[3].got.message, "test-4:1: ratio: whole is 0");
    kpi_formula_tests_free(t);
}

static void test_formula_test_bad_files(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"name,formula\n", "tests.csv:1: no column 'expect'"},
        {"name,formula,expect,extra\n",
         "tests.csv:1: unknown column 'extra' (the columns are name, formula, inputs, expect "
         "and tolerance)"},
        {"name,formula,expect\nx,1,abc\n",
         "tests.csv:2: expect 'abc': expected a number, 'error: PART OF THE MESSAGE' or "
         "'missing: INPUT'"},
        {"name,formula,expect\nx,1,error:\n",
         "tests.csv:2: expect 'error:': expected a number, 'error: PART OF THE MESSAGE' or "
         "'missing: INPUT'"},
        {"name,formula,inputs,expect\nx,a,a=1; a=2,1\n", "tests.csv:2: input 'a' given twice"},
        {"name,formula,inputs,expect\nx,a,a=one,1\n", "tests.csv:2: input 'a': value 'one' "},
        {"name,formula,expect,tolerance\nx,1,1,-1\n",
         "tests.csv:2: tolerance '-1': expected a number >= 0"},
        {"name,formula,expect\n,1,1\n", "tests.csv:2: name is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kpi_formula_tests *t = NULL;
        struct kpi_error err;
        assert_int_equal(load(cases[i].text, &t, &err), KPI_EINPUT);
        assert_null(t);
        if (!scratch_starts_with(err.message, cases[i].message))
            fail_msg("case %zu: '%s', expected '%s'", i, err.message, cases[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formula_test_judges),
        cmocka_unit_test(test_formula_test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
