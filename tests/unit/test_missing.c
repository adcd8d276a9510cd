/* Unit tests of the missing-data policy (missing.h, docs/formats.md
 * "if_missing"): the cell, which absent inputs a KPI under `zero` gets as
 * 0 (known names only, never a misspelt one or a field after '.'), their
 * display order, and that a filled name never hides a plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "formula.h"
#include "kpieval/builder.h"
#include "kpieval/dataset.h"
#include "missing.h"
#include "scratch.h"

static void test_missing_parse(void **state)
{
    enum kpi_if_missing p = KPI_IF_MISSING_ZERO;
    (void)state;
    assert_int_equal(kpi_missing_parse("", &p), 0);
    assert_int_equal(p, KPI_IF_MISSING_MISSING);
    assert_int_equal(kpi_missing_parse("zero", &p), 0);
    assert_int_equal(p, KPI_IF_MISSING_ZERO);
    assert_int_equal(kpi_missing_parse("missing", &p), 0);
    assert_int_equal(p, KPI_IF_MISSING_MISSING);
    assert_int_equal(kpi_missing_parse("Zero", &p), -1);
    assert_int_equal(kpi_missing_parse("0", &p), -1);
    assert_string_equal(kpi_missing_name(KPI_IF_MISSING_ZERO), "zero");
}

static void add_kpi(kpi_builder *b, const char *id, const char *formula, const char *policy)
{
    struct kpi_error err = {0};
    struct kpi_indicator_spec s = {.id = id,
                                   .name = id,
                                   .department = "d",
                                   .target = "10",
                                   .formula = formula,
                                   .if_missing = policy};
    assert_int_equal(kpi_builder_add_indicator(b, &s, &err), 0);
}

static void add_actual(kpi_builder *b, const char *id, const char *input, const char *value)
{
    struct kpi_error err = {0};
    struct kpi_actual_spec a = {id, input, value, 0};
    assert_int_equal(kpi_builder_add_actual(b, &a, &err), 0);
}

static kpi_dataset *build(void)
{
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;
    struct kpi_error err = {0};

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    /* b is known (K2 has it), c only from another period, kpi.c is a
     * field, bb is known nowhere (a typo), twice is a plugin that K5's
     * input of the same name makes a known name too. */
    add_kpi(b, "K1", "b * 2 + a + bb + c + b + (kpi.c or 0)", "zero");
    add_kpi(b, "K2", "b", "");
    add_kpi(b, "K3", "b * 2 + a", "missing");
    add_kpi(b, "K4", "twice(a)", "zero");
    add_kpi(b, "K5", "twice", "");
    add_kpi(b, "K6", "a", "nought");
    add_actual(b, "K1", "a", "1");
    add_actual(b, "K2", "b", "5");
    add_actual(b, "K3", "a", "1");
    add_actual(b, "K4", "a", "4");
    add_actual(b, "K5", "twice", "7");
    assert_int_equal(kpi_builder_note_input(b, "c", &err), 0);
    assert_int_equal(kpi_builder_finish(b, &ds, &err), 0);
    kpi_builder_free(b);
    return ds;
}

static void test_missing_fill_known_names_only(void **state)
{
    kpi_dataset *ds = build();
    (void)state;

    /* K1: b and c filled (line 0), a read; display order is first use:
     * b (at 0), a, c; bb is not known and kpi.c is a field. */
    const struct kpi_indicator *k = kpi_dataset_find(ds, "K1");
    assert_int_equal(k->if_missing, KPI_IF_MISSING_ZERO);
    assert_int_equal(k->n_inputs, 3);
    assert_string_equal(k->inputs[0].name, "b");
    assert_true(kpi_input_is_filled(&k->inputs[0]) && k->inputs[0].value == 0);
    assert_string_equal(k->inputs[1].name, "a");
    assert_false(kpi_input_is_filled(&k->inputs[1]));
    assert_string_equal(k->inputs[2].name, "c");
    assert_true(kpi_input_is_filled(&k->inputs[2]));
    assert_int_equal(kpi_missing_count(k), 2);
    assert_true(kpi_missing_filled(k, "c"));
    assert_false(kpi_missing_filled(k, "a"));
    assert_false(kpi_missing_filled(k, "bb"));

    /* The default policy fills nothing. */
    k = kpi_dataset_find(ds, "K3");
    assert_int_equal(k->n_inputs, 1);
    assert_int_equal(kpi_missing_count(k), 0);

    /* An unknown value makes the KPI invalid, naming the accepted ones. */
    k = kpi_dataset_find(ds, "K6");
    assert_non_null(k->invalid);
    assert_string_equal(k->invalid,
                        "indicators.csv:7: if_missing 'nought' is not 'missing' or 'zero'");
    kpi_dataset_free(ds);
}

static void test_missing_evaluation(void **state)
{
    char dir[SCRATCH_PATH_MAX], msg[KPI_MESSAGE_MAX];
    struct kpi_error err = {0};
    kpi_formulas *fe = NULL;
    struct kpi_result r;
    kpi_dataset *ds = build();
    (void)state;

    scratch_fresh_dir(dir, "missing");
    scratch_write_in(dir, "twice.lua", "return function(x) return 2 * x end\n");
    const char *dirs[1] = {dir};
    assert_int_equal(kpi_formulas_new(ds, NULL, dirs, 1, &fe, &err), 0);
    assert_int_equal(kpi_formulas_check_plugins(fe, &err), 0);

    /* K1: bb stays missing, though b and c are filled. */
    assert_true(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K1"), &r, msg));
    assert_int_equal(r.status, KPI_STATUS_MISSING);
    assert_string_equal(msg, "input 'bb' missing for 'K1'");
    /* K3 (missing policy): b is missing. */
    assert_true(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K3"), &r, msg));
    assert_string_equal(msg, "input 'b' missing for 'K3'");
    /* K4: twice is a filled name, but the plugin wins: 2 * 4. */
    const struct kpi_indicator *k4 = kpi_dataset_find(ds, "K4");
    assert_true(kpi_missing_filled(k4, "twice"));
    assert_false(kpi_formulas_eval_kpi(fe, k4, &r, msg));
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_true(r.actual == 8);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_parse),
        cmocka_unit_test(test_missing_fill_known_names_only),
        cmocka_unit_test(test_missing_evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
