/* CSV writers: kpis.csv, departments.csv and departments/NNN-name.csv.
 * Headers and kpieval's own words in the report's language (words.h), an
 * optional UTF-8 byte order mark for Excel, and text that a spreadsheet
 * would run as a formula neutralised. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kpieval/columns.h"
#include "kpieval/score.h"
#include "text.h"
#include "words.h"
#include "writers.h"

/* s[0..n) with its quotes doubled, inside a quoted field. */
static void put_doubling_quotes(FILE *f, const char *s, size_t n)
{
    for (const char *q; (q = memchr(s, '"', n)); n -= (size_t)(q + 1 - s), s = q + 1) {
        kpi_out_n(f, s, (size_t)(q - s + 1));
        kpi_out_c(f, '"'); /* the quote, doubled */
    }
    kpi_out_n(f, s, n);
}

/* A text cell, in its visible form (text.h): a control character or a byte
 * that is not UTF-8 is written \xHH, so every row is one line and a
 * spreadsheet or terminal shows what the cell holds. RFC 4180 quoting for
 * ',' and '"', quotes doubled; CR and LF no longer occur. */
static void put_field(FILE *f, const char *s)
{
    size_t len = strlen(s), n = kpi_text_visible_span(s, len);
    bool quote = strpbrk(s, ",\"") != NULL;

    /* OWASP's advice against CSV injection: a text that a spreadsheet
     * would read as a formula gets a leading apostrophe, which Excel and
     * LibreOffice show as text. */
    bool guard = kpi_text_runs_as_formula(s);

    if (n == len && !quote && !guard) {
        kpi_out_n(f, s, len);
        return;
    }
    if (quote)
        kpi_out_c(f, '"');
    if (guard)
        kpi_out_c(f, '\'');
    for (;;) {
        char esc[KPI_VISIBLE_ESCAPE_BUF];
        if (quote)
            put_doubling_quotes(f, s, n);
        else
            kpi_out_n(f, s, n);
        s += n, len -= n;
        if (!len)
            break;
        n = kpi_text_visible_escape(s, len, esc);
        kpi_out_s(f, esc);
        s += n, len -= n;
        n = kpi_text_visible_span(s, len);
    }
    if (quote)
        kpi_out_c(f, '"');
}

static void put_number(FILE *f, double x)
{
    char buf[KPI_NUMBER_BUF];
    kpi_out_s(f, kpi_text_format_number(x, buf));
}

static void put_rate(FILE *f, double x)
{
    char buf[KPI_RATE_BUF];
    kpi_out_s(f, kpi_text_format_rate(x, buf));
}

/* A measured value (text.h, kpi_text_format_measure). */
static void put_measure(FILE *f, double x)
{
    char buf[KPI_RATE_BUF];
    kpi_out_s(f, kpi_text_format_measure(x, buf));
}

static void put_inputs(FILE *f, const struct kpi_report *rep, const struct kpi_cell *c)
{
    const struct kpi_indicator *k = c->kpi;
    char buf[KPI_DEPENDENCY_BUF];

    /* Names are identifiers, ids [A-Za-z0-9._-] and values numbers:
     * nothing to quote. */
    for (unsigned i = 0; i < k->n_inputs; i++) {
        if (i)
            kpi_out_s(f, "; ");
        kpi_out_s(f, k->inputs[i].name);
        kpi_out_c(f, '=');
        kpi_out_s(f, kpi_text_format_number(k->inputs[i].value, buf));
        if (kpi_input_is_filled(&k->inputs[i]))
            kpi_out_s(f, " (absent)");
    }
    for (unsigned j = 0; j < k->n_deps; j++) {
        if (j || k->n_inputs)
            kpi_out_s(f, "; ");
        kpi_out_s(f, kpi_column_dependency(rep, c->row, j, buf, sizeof buf));
    }
}

/* One cell as CSV (columns.h says what each type is). */
static void put_cell(FILE *f, const struct kpi_report *rep, const struct kpi_cell *c)
{
    if (c->as_written) { /* a cell that could not be read is shown as written */
        put_field(f, c->as_written);
        return;
    }
    switch (c->type) {
    case KPI_CELL_TEXT: put_field(f, c->text); break;
    case KPI_CELL_WORD: put_field(f, kpi_word(rep->params ? rep->params->lang : KPI_LANG_EN, c->text)); break;
    case KPI_CELL_NUMBER: put_number(f, c->number); break;
    case KPI_CELL_MEASURE: put_measure(f, c->number); break;
    case KPI_CELL_RATE: put_rate(f, c->number); break;
    case KPI_CELL_COUNT: kpi_out_u(f, c->count); break;
    case KPI_CELL_INPUTS: put_inputs(f, rep, c); break;
    case KPI_CELL_EXTRA: /* one field per extra column (KPI_COL_SPREAD) */
        for (size_t e = 0; e < rep->n_extra_columns; e++) {
            if (e)
                kpi_out_c(f, ',');
            put_field(f, c->kpi->extra[e]);
        }
        break;
    default: break; /* no value, or a JSON-only kind */
    }
}

/* Whether the CSV files of rep have column col: a spread column only
 * when indicators.csv has extra columns. */
static bool has_column(const struct kpi_report *rep, const struct kpi_column *col)
{
    return (col->formats & KPI_COL_CSV) && !((col->formats & KPI_COL_SPREAD) && !rep->n_extra_columns);
}

/* The byte order mark, when asked for, then the header: the CSV columns'
 * names in the report's language; a spread column's are indicators.csv's. */
static void put_header(FILE *f, const struct kpi_report *rep, const struct kpi_column *cols,
                       size_t n)
{
    bool first = true;
    if (rep->params && rep->params->csv_bom)
        kpi_out_s(f, "\xEF\xBB\xBF");
    for (size_t j = 0; j < n; j++) {
        if (!has_column(rep, &cols[j]))
            continue;
        if (!first)
            kpi_out_c(f, ',');
        first = false;
        if (!(cols[j].formats & KPI_COL_SPREAD)) {
            put_field(f, kpi_column_header(rep, &cols[j]));
            continue;
        }
        for (size_t e = 0; e < rep->n_extra_columns; e++) {
            if (e)
                kpi_out_c(f, ',');
            put_field(f, rep->extra_columns[e]);
        }
    }
    kpi_out_c(f, '\n');
}

/* Row i of the report, one cell per CSV column; with total, department
 * node i's total row (the columns' total getters, others empty). */
static void put_row(FILE *f, const struct kpi_report *rep, size_t i, const struct kpi_column *cols,
                    size_t n, bool total)
{
    struct kpi_cell cell;
    bool first = true;
    for (size_t j = 0; j < n; j++) {
        if (!has_column(rep, &cols[j]))
            continue;
        if (!first)
            kpi_out_c(f, ',');
        first = false;
        cell.as_written = NULL;
        cell.type = KPI_CELL_NULL;
        if (!total)
            cols[j].get(rep, i, cols[j].arg, &cell);
        else if (cols[j].total)
            cols[j].total(rep, i, cols[j].arg, &cell);
        else if (cols[j].formats & KPI_COL_SPREAD)
            for (size_t e = 1; e < rep->n_extra_columns; e++)
                kpi_out_c(f, ',');
        put_cell(f, rep, &cell);
    }
    kpi_out_c(f, '\n');
}

/* A whole table: the header, then rows 0..n of the report. */
static int put_table(const struct kpi_report *rep, void *state, const struct kpi_column *cols,
                     size_t n_cols, size_t n_rows)
{
    FILE *f = kpi_sink_file(state);
    put_header(f, rep, cols, n_cols);
    for (size_t i = 0; i < n_rows; i++)
        put_row(f, rep, i, cols, n_cols, false);
    return 0;
}

int kpi_write_kpis_csv(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    size_t n_cols;
    const struct kpi_column *cols = kpi_columns_kpi(&n_cols);
    (void)err;
    return put_table(rep, state, cols, n_cols, rep->n_kpis);
}

int kpi_write_departments_csv(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    size_t n_cols;
    const struct kpi_column *cols = kpi_columns_department(&n_cols);
    (void)err;
    return put_table(rep, state, cols, n_cols, rep->n_departments);
}

/* departments/: the folder is made by prepare and its files written and
 * closed one by one; the state is the folder's path. A failure leaves
 * files behind, which the staging folder's discard removes. */
int kpi_department_files_prepare(const struct kpi_sink *self, const struct kpi_report *rep,
                                 const char *dir, void **state, struct kpi_error *err)
{
    size_t len = strlen(dir) + sizeof "/departments";
    char *sub = malloc(len);
    (void)self, (void)rep;
    if (!sub)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    snprintf(sub, len, "%s/departments", dir);
    if (mkdir(sub, 0777) != 0) {
        int rc = kpi_error_set(err, KPI_EIO, "%s: cannot create: %s", sub, strerror(errno));
        free(sub);
        return rc;
    }
    *state = sub;
    return 0;
}

int kpi_department_files_commit(void *state, struct kpi_error *err)
{
    (void)err;
    free(state);
    return 0;
}

void kpi_department_files_abort(void *state)
{
    free(state);
}

int kpi_write_department_files(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    const struct kpi_department *deps = rep->departments;
    size_t n_deps = rep->n_departments;
    size_t n_cols;
    const struct kpi_column *cols = kpi_columns_kpi(&n_cols);
    const char *sub = state;
    char name[512];
    size_t first = 0; /* the first KPI of department d's subtree */
    int rc = 0;

    for (size_t d = 0; d < n_deps && !rc; d++) {
        size_t end;
        kpi_report_subtree(rep, d, first, &first, &end);
        kpi_report_department_file(&deps[d], deps[d].number, name, sizeof name);
        FILE *f = kpi_output_open(sub, name, err);
        if (!f)
            return err ? err->code : KPI_EIO;
        put_header(f, rep, cols, n_cols);
        for (size_t j = first; j < end; j++)
            put_row(f, rep, j, cols, n_cols, false);
        put_row(f, rep, d, cols, n_cols, true);
        rc = kpi_output_close(f, name, err);
    }
    return rc;
}
