/* Unit tests of the validation rules (rules.h, docs/formats.md "rules.csv"):
 * reading rules.csv and its errors, the words of a failure, and the rules
 * run by the formula engine with each KPI: error and warning rules, a
 * check skipped for a KPI without its names, a check that raises an
 * error, gives no boolean, or hits a limit. Expected texts are written
 * from formats.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formula.h"
#include "kpieval/dataset.h"
#include "kpieval/rules.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];

static const char indicators[] = "id,name,department,target,formula\n"
                                 "K1,a,d,10,a / b * 100\n"
                                 "K2,a,d,10,a / b * 100\n"
                                 "K3,a,d,10,c\n";
static const char actuals[] = "indicator,input,value\n"
                              "K1,a,12\nK1,b,10\n"
                              "K2,a,1\nK2,b,2\n"
                              "K3,c,1\n";

/* A dataset with rules.csv = rules (NULL: none), loaded, and its rules. */
static kpi_dataset *load(const char *name, const char *rules, kpi_rules **out, int want_rc,
                         struct kpi_error *err)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    kpi_dataset *ds = NULL;

    scratch_dataset(dir, tmp, name, indicators, actuals);
    if (rules)
        scratch_write_in(dir, "rules.csv", rules);
    assert_int_equal(kpi_dataset_load(dir, &opt, &ds, err), 0);
    int rc = kpi_rules_load(dir, ds, KPI_ENCODING_UTF8, NULL, out, err);
    if (rc != want_rc)
        fail_msg("%s: rc %d, expected %d: %s", name, rc, want_rc, err->message);
    return ds;
}

static int setup(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "rules");
    return 0;
}

static void test_rules_load_and_views(void **state)
{
    struct kpi_error err = {0};
    kpi_rules *rs = NULL;
    size_t n, nw, total;
    (void)state;

    kpi_dataset *ds = load("views",
                           "id,kpi,check,severity,message,owner\n"
                           "R1,,a <= b,error,too many,kim\n"
                           "R2,K2, a > 5 ,,,\n"
                           "R3,KX,c > 0,warning,,lee\n",
                           &rs, 0, &err);
    const struct kpi_rule *r = kpi_rules_list(rs, &n);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].id, "R1");
    assert_null(r[0].kpi);
    assert_string_equal(r[0].check, "a <= b");
    assert_int_equal(r[0].severity, KPI_RULE_ERROR);
    assert_string_equal(r[0].message, "too many");
    assert_int_equal(r[0].line, 2);
    assert_string_equal(r[1].kpi, "K2");
    assert_string_equal(r[1].check, "a > 5");
    assert_int_equal(r[1].severity, KPI_RULE_WARNING); /* empty: warning */
    assert_null(r[1].message);
    assert_true(kpi_rule_applies(&r[0], kpi_dataset_find(ds, "K3")));
    assert_false(kpi_rule_applies(&r[1], kpi_dataset_find(ds, "K1")));
    const char *const *w = kpi_dataset_warnings(ds, &nw, &total);
    assert_int_equal(nw, 1);
    assert_string_equal(w[0], "rules.csv:4: rule 'R3' is for unknown indicator 'KX'; ignored");
    kpi_rules_free(rs);
    kpi_dataset_free(ds);

    ds = load("absent", NULL, &rs, 0, &err);
    assert_non_null(rs);
    kpi_rules_list(rs, &n);
    assert_int_equal(n, 0);
    kpi_rules_free(rs);
    kpi_dataset_free(ds);
}

static void test_rules_file_errors(void **state)
{
    static const struct {
        const char *rules, *message;
    } cases[] = {
        {"id,kpi,severity\nR1,,error\n", "rules.csv:1: missing required column 'check'"},
        {"id,check\nR1,a > 0\nR1,b > 0\n", "rules.csv:3: duplicate rule 'R1' (first at line 2)"},
        {"id,check\nR1,\n", "rules.csv:2: rule 'R1' has an empty check"},
        {"id,check\n,a > 0\n",
         "rules.csv:2: rule id '' is empty; use letters, digits, '.', '_' and '-'"},
        {"id,check,severity\nR1,a > 0,Error\n",
         "rules.csv:2: severity 'Error' of rule 'R1' is not 'warning' or 'error'"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kpi_error err = {0};
        kpi_rules *rs = (kpi_rules *)&err; /* must be reset */
        char name[32];
        snprintf(name, sizeof name, "bad%zu", i);
        kpi_dataset *ds = load(name, cases[i].rules, &rs, KPI_EINPUT, &err);
        assert_null(rs);
        assert_string_equal(err.message, cases[i].message);
        assert_string_equal(err.file, "rules.csv");
        kpi_dataset_free(ds);
    }
}

static void test_rules_describe(void **state)
{
    static const struct kpi_input inputs[] = {{"a", 1, 2}, {"b", 2.5, 3}, {"c", 3, 4}};
    struct kpi_indicator k = {.id = "K9", .inputs = inputs, .n_inputs = 3};
    struct kpi_rule rule = {"R7", NULL, "b > a and a > 0 and math.abs(b) < 9",
                            NULL, 5,    KPI_RULE_WARNING};
    char out[512];
    (void)state;

    /* Each named input once, in the order named; math is not an input. */
    kpi_rule_describe(&rule, &k, NULL, false, out, sizeof out);
    assert_string_equal(out, "rule R7 failed: b > a and a > 0 and math.abs(b) < 9 (b=2.5, a=1)");
    kpi_rule_describe(&rule, &k, NULL, true, out, sizeof out);
    assert_string_equal(out, "rules.csv:5: rule R7 failed for K9: b > a and a > 0 and "
                             "math.abs(b) < 9 (b=2.5, a=1)");
    rule.message = "check the export";
    kpi_rule_describe(&rule, &k, "boom", false, out, sizeof out);
    assert_string_equal(out, "rule R7 failed: b > a and a > 0 and math.abs(b) < 9 (b=2.5, a=1): "
                             "boom: check the export");
    rule.check = "kpi.target > 0";
    kpi_rule_describe(&rule, &k, NULL, false, out, sizeof out);
    assert_string_equal(out, "rule R7 failed: kpi.target > 0: check the export");
}

/* The rules run with each KPI before its formula. */
static void test_rules_run_with_each_kpi(void **state)
{
    struct kpi_error err = {0};
    struct kpi_sandbox_limits limits = {100000, 0, 0};
    kpi_rules *rs = NULL;
    kpi_formulas *fe = NULL;
    struct kpi_result r;
    char msg[KPI_MESSAGE_MAX];
    (void)state;

    kpi_dataset *ds = load("run",
                           "id,kpi,check,severity,message\n"
                           "R1,,a <= b,error,\n"
                           "R2,,a > 5,warning,\n"
                           "R3,K3,c.x,warning,\n"
                           "R4,K2,a + 0,warning,\n"
                           "R5,K3,(function() while true do end end)(),warning,\n",
                           &rs, 0, &err);
    assert_int_equal(kpi_formulas_new(ds, &limits, NULL, 0, &fe, &err), 0);
    assert_int_equal(kpi_formulas_set_rules(fe, rs, &err), 0);

    /* K1: 12 > 10 fails the error rule; the formula does not run. */
    assert_true(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K1"), &r, msg));
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_false(r.has_actual);
    assert_string_equal(msg, "K1: rule R1 failed: a <= b (a=12, b=10)");
    assert_null(kpi_formulas_note(fe));

    /* K2: 1 <= 2 passes; R2 and R4 fail as warnings; scored normally. */
    assert_false(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K2"), &r, msg));
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_true(r.actual == 50);
    assert_string_equal(kpi_formulas_note(fe),
                        "rules.csv:3: rule R2 failed for K2: a > 5 (a=1)\n"
                        "rules.csv:5: rule R4 failed for K2: a + 0 (a=1): the check gave a "
                        "number, not true or false");

    /* K3 has no a or b: R1 and R2 are skipped. R3 raises an error (a
     * warning), R5 hits the instruction limit: the KPI is in error. */
    assert_true(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K3"), &r, msg));
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_string_equal(msg, "K3: rule R5 failed: (function() while true do end end)(): "
                             "stopped: instruction limit exceeded");
    assert_contains(kpi_formulas_note(fe), "rules.csv:4: rule R3 failed for K3: c.x (c=1): "
                                           "rule R3:1: attempt to index a number value");
    assert_non_null(strchr(kpi_formulas_note(fe), ':')); /* one line: R5 is an error */
    assert_null(strchr(kpi_formulas_note(fe), '\n'));
    kpi_formulas_free(fe);
    kpi_rules_free(rs);
    kpi_dataset_free(ds);
}

static void test_rules_check_that_does_not_compile(void **state)
{
    struct kpi_error err = {0};
    kpi_rules *rs = NULL;
    kpi_formulas *fe = NULL;
    (void)state;

    kpi_dataset *ds = load("compile", "id,check\nR1,a > 0\nR2,a >\n", &rs, 0, &err);
    assert_int_equal(kpi_formulas_new(ds, NULL, NULL, 0, &fe, &err), 0);
    assert_int_equal(kpi_formulas_set_rules(fe, rs, &err), KPI_EINPUT);
    assert_string_equal(err.message, "rules.csv:3: the check of rule 'R2' does not compile: "
                                     "rule R2:1: unexpected symbol near ')'");
    assert_string_equal(err.file, "rules.csv");
    assert_int_equal(err.line, 3);
    kpi_formulas_free(fe);
    kpi_rules_free(rs);
    kpi_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_load_and_views),
        cmocka_unit_test(test_rules_file_errors),
        cmocka_unit_test(test_rules_describe),
        cmocka_unit_test(test_rules_run_with_each_kpi),
        cmocka_unit_test(test_rules_check_that_does_not_compile),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
