#include "kpieval/formula_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "csv_reader.h"
#include "text.h"

/* The columns; name, formula and expect are required. */
enum column { COL_NAME, COL_FORMULA, COL_INPUTS, COL_EXPECT, COL_TOLERANCE, COL_COUNT };
static const char *const column_names[COL_COUNT] = {"name", "formula", "inputs", "expect",
                                                    "tolerance"};
static const bool column_required[COL_COUNT] = {true, true, false, true, false};

/* A test's trial: its id (what messages call it) and inputs. */
struct trial_case {
    char id[32];
    struct kpi_trial_input *inputs;
    size_t n_inputs;
};

struct kpi_formula_tests {
    struct kpi_arena arena;
    const char *name; /* the file, for messages */
    struct kpi_formula_test *tests;
    struct trial_case *trials;
    size_t n, cap;
    size_t column[COL_COUNT]; /* field index of each column; SIZE_MAX: absent */
};

static char *keep(kpi_formula_tests *t, const char *s)
{
    return kpi_arena_strndup(&t->arena, s, strlen(s));
}

static int header(kpi_formula_tests *t, const struct kpi_csv_row *row, struct kpi_error *err)
{
    for (size_t c = 0; c < COL_COUNT; c++)
        t->column[c] = SIZE_MAX;
    for (size_t f = 0; f < row->nfields; f++) {
        size_t c = 0;
        while (c < COL_COUNT && strcmp(row->fields[f], column_names[c]))
            c++;
        if (c == COL_COUNT)
            return kpi_error_at(err, KPI_EINPUT, t->name, row->line, 0,
                                "%s:%u: unknown column '%s' (the columns are name, formula, "
                                "inputs, expect and tolerance)",
                                t->name, row->line, row->fields[f]);
        if (t->column[c] != SIZE_MAX)
            return kpi_error_at(err, KPI_EINPUT, t->name, row->line, 0,
                                "%s:%u: column '%s' twice", t->name, row->line, column_names[c]);
        t->column[c] = f;
    }
    for (size_t c = 0; c < COL_COUNT; c++)
        if (column_required[c] && t->column[c] == SIZE_MAX)
            return kpi_error_at(err, KPI_EINPUT, t->name, row->line, 0,
                                "%s:%u: no column '%s'", t->name, row->line, column_names[c]);
    return 0;
}

static const char *field(const kpi_formula_tests *t, const struct kpi_csv_row *row, enum column c)
{
    return t->column[c] == SIZE_MAX ? "" : row->fields[t->column[c]];
}

/* "a=1; b=2" into the trial's inputs. */
static int parse_inputs(kpi_formula_tests *t, struct trial_case *tc, const char *cell,
                        unsigned line, struct kpi_error *err)
{
    char *copy = keep(t, cell);
    size_t n = 0;

    if (!copy)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (const char *p = copy; *p; p++)
        n += *p == ';';
    if (!(tc->inputs = kpi_arena_alloc(&t->arena, (n + 1) * sizeof *tc->inputs)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    tc->n_inputs = 0;
    for (char *item = copy, *next; item; item = next) {
        next = strchr(item, ';');
        if (next)
            *next++ = '\0';
        if (!item[strspn(item, " \t")])
            continue; /* "a=1;" or an empty cell */
        if (kpi_trial_parse_input(item, &tc->inputs[tc->n_inputs], err)) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err->message); /* err is written over */
            return kpi_error_at(err, KPI_EINPUT, t->name, line, 0, "%s:%u: %s", t->name, line,
                                why);
        }
        for (size_t i = 0; i < tc->n_inputs; i++)
            if (!strcmp(tc->inputs[i].name, tc->inputs[tc->n_inputs].name))
                return kpi_error_at(err, KPI_EINPUT, t->name, line, 0,
                                    "%s:%u: input '%s' given twice", t->name, line,
                                    tc->inputs[i].name);
        tc->n_inputs++;
    }
    return 0;
}

/* The expect cell: a number, "error: TEXT" or "missing: NAME". */
static int parse_expect(kpi_formula_tests *t, struct kpi_formula_test *ft, const char *cell,
                        struct kpi_error *err)
{
    static const struct {
        const char *prefix;
        enum kpi_expect kind;
    } kinds[] = {{"error:", KPI_EXPECT_ERROR}, {"missing:", KPI_EXPECT_MISSING}};

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(cell, kinds[i].prefix, n))
            continue;
        const char *text = cell + n + strspn(cell + n, " \t");
        if (!*text)
            break;
        ft->kind = kinds[i].kind;
        if (!(ft->text = keep(t, text)))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        return 0;
    }
    if (kpi_text_parse_number(cell, &ft->value) == KPI_NUMBER_OK) {
        ft->kind = KPI_EXPECT_VALUE;
        return 0;
    }
    return kpi_error_at(err, KPI_EINPUT, t->name, ft->line, 0,
                        "%s:%u: expect '%s': expected a number, 'error: PART OF THE MESSAGE' "
                        "or 'missing: INPUT'",
                        t->name, ft->line, cell);
}

static int on_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    kpi_formula_tests *t = ctx;
    int rc;

    if (row->index == 0)
        return header(t, row, err);
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 32;
        struct kpi_formula_test *nt = realloc(t->tests, ncap * sizeof *nt);
        if (nt)
            t->tests = nt;
        struct trial_case *nc = nt ? realloc(t->trials, ncap * sizeof *nc) : NULL;
        if (!nc)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        t->trials = nc;
        t->cap = ncap;
    }
    struct kpi_formula_test *ft = &t->tests[t->n];
    struct trial_case *tc = &t->trials[t->n];
    memset(ft, 0, sizeof *ft);
    memset(tc, 0, sizeof *tc);
    ft->line = row->line;
    snprintf(tc->id, sizeof tc->id, "test-%zu", t->n + 1);
    if (!(ft->name = keep(t, field(t, row, COL_NAME))) ||
        !(ft->formula = keep(t, field(t, row, COL_FORMULA))) ||
        !(ft->inputs = keep(t, field(t, row, COL_INPUTS))) ||
        !(ft->expect = keep(t, field(t, row, COL_EXPECT))))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (!*ft->name || !*ft->formula)
        return kpi_error_at(err, KPI_EINPUT, t->name, row->line, 0, "%s:%u: %s is empty",
                            t->name, row->line, *ft->name ? "formula" : "name");
    if ((rc = parse_inputs(t, tc, ft->inputs, row->line, err)) ||
        (rc = parse_expect(t, ft, ft->expect, err)))
        return rc;
    const char *tol = field(t, row, COL_TOLERANCE);
    ft->tolerance = KPI_FORMULA_TEST_TOLERANCE * fmax(1, fabs(ft->value));
    if (*tol && (ft->kind != KPI_EXPECT_VALUE ||
                 kpi_text_parse_number(tol, &ft->tolerance) != KPI_NUMBER_OK ||
                 ft->tolerance < 0))
        return kpi_error_at(err, KPI_EINPUT, t->name, row->line, 0,
                            "%s:%u: tolerance '%s': %s", t->name, row->line, tol,
                            ft->kind != KPI_EXPECT_VALUE ? "only an expected value has one"
                                                         : "expected a number >= 0");
    t->n++;
    return 0;
}

int kpi_formula_tests_load(const char *path, const char *name, kpi_formula_tests **out,
                           struct kpi_error *err)
{
    kpi_formula_tests *t = calloc(1, sizeof *t);
    int rc;

    *out = NULL;
    if (!t)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    kpi_arena_init(&t->arena);
    t->name = name;
    if ((rc = kpi_csv_read(path, name, KPI_ENCODING_UTF8, on_row, t, err))) {
        kpi_formula_tests_free(t);
        return rc;
    }
    if (!(t->name = keep(t, name))) {
        kpi_formula_tests_free(t);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    *out = t;
    return 0;
}

static bool judge(const struct kpi_formula_test *ft)
{
    const struct kpi_trial_result *g = &ft->got;
    char missing[160];

    switch (ft->kind) {
    case KPI_EXPECT_VALUE:
        return g->status == KPI_STATUS_OK && fabs(g->value - ft->value) <= ft->tolerance;
    case KPI_EXPECT_ERROR:
        return (g->status == KPI_STATUS_ERROR || g->status == KPI_STATUS_INVALID) &&
               strstr(g->message, ft->text);
    case KPI_EXPECT_MISSING:
        snprintf(missing, sizeof missing, "input '%s' missing", ft->text);
        return g->status == KPI_STATUS_MISSING && strstr(g->message, missing);
    }
    return false;
}

int kpi_formula_tests_run(kpi_formula_tests *t, const struct kpi_trial_options *opt,
                          struct kpi_error *err)
{
    struct kpi_trial_case *cases = calloc(t->n ? t->n : 1, sizeof *cases);
    struct kpi_trial_result *got = calloc(t->n ? t->n : 1, sizeof *got);
    int rc = 0;

    if (!cases || !got) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->n; i++)
        cases[i] = (struct kpi_trial_case){.id = t->trials[i].id,
                                           .formula = t->tests[i].formula,
                                           .inputs = t->trials[i].inputs,
                                           .n_inputs = t->trials[i].n_inputs};
    if ((rc = kpi_trial_run(opt, cases, t->n, got, err)))
        goto out;
    for (size_t i = 0; i < t->n; i++) {
        t->tests[i].got = got[i];
        t->tests[i].passed = judge(&t->tests[i]);
    }
out:
    free(cases);
    free(got);
    return rc;
}

struct kpi_formula_test *kpi_formula_tests_cases(kpi_formula_tests *t, size_t *n)
{
    *n = t->n;
    return t->tests;
}

void kpi_formula_tests_free(kpi_formula_tests *t)
{
    if (!t)
        return;
    kpi_arena_release(&t->arena);
    free(t->tests);
    free(t->trials);
    free(t);
}
