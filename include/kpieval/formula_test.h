/*
 * formula_test.h - formula tests written as data: a CSV file of formulas,
 * their inputs and the value or error each must give (docs/formats.md,
 * "Formula tests"), run as a run would evaluate them.
 *
 * Provides kpi_formula_tests (opaque; _load/_run/_free). Relies on the CSV
 * reader and trial.h (evaluation in the sandbox). Memory: the tests own
 * every string and result; they live until kpi_formula_tests_free().
 */
#ifndef KPIEVAL_FORMULA_TEST_H
#define KPIEVAL_FORMULA_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "kpieval/error.h"
#include "kpieval/trial.h"

/* The file a plugin folder's tests are in. */
#define KPI_FORMULA_TESTS_FILE "tests.csv"

/* Without a tolerance cell, a value passes within this many times
 * max(1, |expected|): what decimal constants in a file can promise. */
#define KPI_FORMULA_TEST_TOLERANCE 1e-9

enum kpi_expect { KPI_EXPECT_VALUE, KPI_EXPECT_ERROR, KPI_EXPECT_MISSING };

struct kpi_formula_test {
    unsigned line;           /* of its row in the file */
    const char *name, *formula, *inputs, *expect; /* the cells as written */
    enum kpi_expect kind;
    double value, tolerance; /* KPI_EXPECT_VALUE */
    const char *text;        /* ERROR: a part of the message; MISSING: the input */
    bool passed;             /* after kpi_formula_tests_run() */
    struct kpi_trial_result got;
};

typedef struct kpi_formula_tests kpi_formula_tests;

/* Reads the tests of path, naming it `name` in messages. Columns, in any
 * order: name, formula, expect, and optionally inputs and tolerance.
 * Returns 0 and *out; KPI_EIO when it cannot be read; KPI_EINPUT for a
 * malformed file, err saying "NAME:LINE: ..."; KPI_ENOMEM. */
int kpi_formula_tests_load(const char *path, const char *name, kpi_formula_tests **out,
                           struct kpi_error *err);

/* Runs every test with the plugins and limits of opt, setting each one's
 * `passed` and `got`. Fails only as kpi_trial_run() does. */
int kpi_formula_tests_run(kpi_formula_tests *t, const struct kpi_trial_options *opt,
                          struct kpi_error *err);

struct kpi_formula_test *kpi_formula_tests_cases(kpi_formula_tests *t, size_t *n);

void kpi_formula_tests_free(kpi_formula_tests *t);

#endif
