/* report.xlsx: the report as an Excel workbook, through libxlsxwriter.
 *
 * Sheets: an overview of every department in tree order (then the overall
 * row) whose coverage and achievement are live formulas over the KPI rows;
 * every KPI (split across sheets past Excel's row limit); one sheet per
 * top-level department with its subtree's KPIs. The columns are the
 * column tables' (columns.h) that the CSV files show, headers and
 * kpieval's own words in the report's language (words.h). Numbers are
 * stored as numbers at full precision; text from the inputs is stored as
 * text in its visible form (text.h), never as a formula, and text that a
 * spreadsheet would run as one when edited is marked as text. Rows are
 * written in order in libxlsxwriter's constant_memory mode, so memory does
 * not grow with the number of KPIs (docs/reports.md, "report.xlsx").
 */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <xlsxwriter.h>

#include "kpieval/columns.h"
#include "kpieval/provenance.h"
#include "text.h"
#include "words.h"
#include "writers.h"

/* Excel's limits. */
#define XLSX_ROWS 1048576       /* rows of a sheet, the header row included */
#define XLSX_TEXT_BYTES 32767   /* a cell holds 32,767 characters: as bytes, always within */
#define XLSX_SHEET_NAME 31      /* UTF-16 units of a sheet's name */
#define XLSX_SHEET_NAME_BYTES (XLSX_SHEET_NAME * 4 + 1)
#define XLSX_FORMULA_BYTES 8192 /* characters of a formula */
#define XLSX_PROPERTY_BYTES 255 /* characters of a custom document property */

/* Ours. A top-level department's sheet each, up to this many: beyond it a
 * workbook of sheet tabs is no help (the KPI sheet's filter on the
 * department is), and each sheet holds a temporary file open until the
 * workbook is closed. */
#define XLSX_DEPARTMENT_SHEETS_MAX 200
#define XLSX_WIDTH_MAX 60.0 /* a column's width, in Excel's character units */
#define XLSX_INDENT_MAX 15  /* Excel's largest indent level */

/* A column of a KPI sheet: a column of the table (with the index of the
 * extra column of indicators.csv for a spread one), or one of the two
 * weights the achievement formulas sum. */
enum slot_kind { SLOT_TABLE, SLOT_SCORED_WEIGHT, SLOT_UNSCORED_WEIGHT };
struct slot {
    enum slot_kind kind;
    const struct kpi_column *col;
    size_t extra;
};

struct xlsx {
    lxw_workbook *wb;
    const char *name; /* the sink's, for messages */
    lxw_error failed; /* the first error of a libxlsxwriter call */
    size_t sheet_rows; /* KPI rows per sheet, the header row apart */
    lxw_format *header, *header_guarded, *guarded, *rate, *whole;
    lxw_format *indent[XLSX_INDENT_MAX + 1][2]; /* by depth, then guarded */
    struct slot *slots;
    size_t n_slots;
    lxw_col_t capped_col, scored_col, unscored_col; /* the formulas' columns */
    double *width; /* per column of the sheet being written */
    char (*names)[XLSX_SHEET_NAME_BYTES]; /* every sheet's, lower-cased ASCII */
    size_t n_names, names_size;
    char (*kpi_sheets)[XLSX_SHEET_NAME_BYTES]; /* the all-KPIs sheet's pieces */
    size_t n_kpi_sheets;
    char text[XLSX_TEXT_BYTES + 1]; /* a cell's visible form */
};

static void check(struct xlsx *x, lxw_error e)
{
    if (e != LXW_NO_ERROR && x->failed == LXW_NO_ERROR)
        x->failed = e;
}

static lxw_format *new_format(struct xlsx *x)
{
    lxw_format *f = workbook_add_format(x->wb);
    if (!f)
        check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
    return f;
}

/* Marks a format's text as text, so that editing the cell does not run it
 * as a formula: the quote prefix where libxlsxwriter has it (1.1.5 on),
 * and the Text number format "@" always, which Excel and LibreOffice also
 * keep typed text under. */
static void set_text_only(lxw_format *f)
{
    if (!f)
        return;
    format_set_num_format(f, "@");
#if LXW_VERSION_ID >= 115
    format_set_quote_prefix(f);
#endif
}

static void make_formats(struct xlsx *x)
{
    for (int guarded = 0; guarded < 2; guarded++) {
        lxw_format *h = new_format(x);
        if (h) {
            format_set_bold(h);
            format_set_bg_color(h, 0xD9E1F2);
            format_set_bottom(h, LXW_BORDER_THIN);
            if (guarded)
                set_text_only(h);
        }
        *(guarded ? &x->header_guarded : &x->header) = h;
        for (int depth = 0; depth <= XLSX_INDENT_MAX; depth++) {
            lxw_format *f = new_format(x);
            if (f) {
                format_set_indent(f, (uint8_t)depth);
                if (guarded)
                    set_text_only(f);
            }
            x->indent[depth][guarded] = f;
        }
    }
    if ((x->guarded = new_format(x)))
        set_text_only(x->guarded);
    if ((x->rate = new_format(x)))
        format_set_num_format(x->rate, "0.00");
    if ((x->whole = new_format(x)))
        format_set_num_format(x->whole, "#,##0");
}

/* ---- cells ------------------------------------------------------------- */

/* Width in Excel's character units of the first characters of s: Hangul,
 * CJK and full-width forms take about two, others one. Stops at the most a
 * column gets. */
static double text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    double w = 0;
    while (*p && w < XLSX_WIDTH_MAX) {
        unsigned cp = *p;
        size_t n = 1;
        if (*p >= 0xF0 && p[1] && p[2] && p[3])
            n = 4, cp = 0x10000;
        else if (*p >= 0xE0 && p[1] && p[2])
            n = 3, cp = ((*p & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        else if (*p >= 0xC0 && p[1])
            n = 2, cp = 0x80;
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFF00 && cp <= 0xFF60) || cp >= 0x10000;
        w += wide ? 2 : 1;
        p += n;
    }
    return w;
}

/* The width of x as written with `decimals` decimals and thousands
 * separators. */
static double number_width(double x, int decimals)
{
    double digits = fabs(x) < 10 ? 1 : floor(log10(fabs(x))) + 1;
    return digits + floor((digits - 1) / 3) + (decimals ? decimals + 1 : 0) + (x < 0);
}

static void widen(struct xlsx *x, lxw_col_t col, double w)
{
    if (w > x->width[col])
        x->width[col] = w;
}

/* s as a cell holds it: its visible form (text.h), as CSV shows it, cut
 * with "…" at Excel's limit. */
static const char *cell_text(struct xlsx *x, const char *s)
{
    static const char more[] = "\u2026";
    size_t len = strlen(s);

    if (len <= XLSX_TEXT_BYTES && kpi_text_visible_span(s, len) == len)
        return s;
    if (kpi_text_visible(s, x->text, sizeof x->text) > XLSX_TEXT_BYTES) {
        kpi_text_visible(s, x->text, sizeof x->text - (sizeof more - 1));
        strcat(x->text, more);
    }
    return x->text;
}

/* A text from the inputs: stored as text, never a formula, and marked as
 * text when a spreadsheet would run it as one (kpi_text_runs_as_formula). */
static void put_text(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
                     const char *s, lxw_format *plain, lxw_format *guarded)
{
    const char *t = cell_text(x, s);
    check(x, worksheet_write_string(ws, row, col, t,
                                    kpi_text_runs_as_formula(s) ? guarded : plain));
    widen(x, col, text_width(t));
}

static void put_number(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
                       double v, lxw_format *f, int decimals)
{
    if (!isfinite(v))
        return; /* never in a report; a cell Excel could not read */
    check(x, worksheet_write_number(ws, row, col, v, f));
    widen(x, col, number_width(v, decimals));
}

static bool is_whole(double v)
{
    return v == floor(v) && fabs(v) < 1e15;
}

/* "a=1; b=2", as kpis.csv shows a KPI's inputs, cut at Excel's limit. */
static const char *inputs_text(struct xlsx *x, const struct kpi_report *rep,
                               const struct kpi_cell *c)
{
    const struct kpi_indicator *k = c->kpi;
    size_t used = 0;
    x->text[0] = '\0';
    for (unsigned i = 0; i < k->n_inputs && used < sizeof x->text; i++) {
        char buf[KPI_NUMBER_BUF];
        used += (size_t)snprintf(x->text + used, sizeof x->text - used, "%s%s=%s%s",
                                 i ? "; " : "", k->inputs[i].name,
                                 kpi_text_format_number(k->inputs[i].value, buf),
                                 kpi_input_is_filled(&k->inputs[i]) ? " (absent)" : "");
    }
    /* The KPIs a composite reads, as kpis.csv shows them. */
    for (unsigned j = 0; j < k->n_deps && used < sizeof x->text; j++) {
        char buf[KPI_DEPENDENCY_BUF];
        used += (size_t)snprintf(x->text + used, sizeof x->text - used, "%s%s",
                                 j || k->n_inputs ? "; " : "",
                                 kpi_column_dependency(rep, c->row, j, buf, sizeof buf));
    }
    return x->text;
}

/* One cell of a table column (columns.h says what each type is); a spread
 * column's cell is the extra column's value. */
static void put_cell(struct xlsx *x, const struct kpi_report *rep, lxw_worksheet *ws,
                     lxw_row_t row, lxw_col_t col, const struct kpi_cell *c, size_t extra)
{
    enum kpi_lang lang = rep->params ? rep->params->lang : KPI_LANG_EN;

    if (c->as_written) { /* a cell that could not be read is shown as written */
        put_text(x, ws, row, col, c->as_written, NULL, x->guarded);
        return;
    }
    switch (c->type) {
    case KPI_CELL_TEXT: put_text(x, ws, row, col, c->text, NULL, x->guarded); break;
    case KPI_CELL_WORD: put_text(x, ws, row, col, kpi_word(lang, c->text), NULL, x->guarded); break;
    case KPI_CELL_NUMBER:
        if (is_whole(c->number))
            put_number(x, ws, row, col, c->number, x->whole, 0);
        else
            put_number(x, ws, row, col, c->number, NULL, 4);
        break;
    case KPI_CELL_MEASURE:
        put_number(x, ws, row, col, c->number, is_whole(c->number) ? x->whole : x->rate,
                   is_whole(c->number) ? 0 : 2);
        break;
    case KPI_CELL_RATE: put_number(x, ws, row, col, c->number, x->rate, 2); break;
    case KPI_CELL_COUNT: put_number(x, ws, row, col, (double)c->count, x->whole, 0); break;
    case KPI_CELL_INPUTS:
        /* Names are identifiers and values numbers: nothing to guard. */
        check(x, worksheet_write_string(ws, row, col, inputs_text(x, rep, c), NULL));
        widen(x, col, text_width(x->text));
        break;
    case KPI_CELL_EXTRA: put_text(x, ws, row, col, c->kpi->extra[extra], NULL, x->guarded); break;
    default: break; /* no value, or a JSON-only kind */
    }
}

/* ---- sheets ------------------------------------------------------------ */

/* Whether the CSV files, and so the KPI sheets, have column col. */
static bool has_column(const struct kpi_report *rep, const struct kpi_column *col)
{
    return (col->formats & KPI_COL_CSV) &&
           !((col->formats & KPI_COL_SPREAD) && !rep->n_extra_columns);
}

static size_t name_units(const char *s)
{
    size_t units = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            units += *p >= 0xF0 ? 2 : 1;
    return units;
}

static bool name_taken(const struct xlsx *x, const char *name)
{
    for (size_t i = 0; i < x->n_names; i++)
        if (!strcasecmp(x->names[i], name))
            return true;
    return false;
}

/* A sheet name for `want` that Excel takes, in out: at most 31 units,
 * none of []:*?/\ or control characters (each becomes '_'), no apostrophe
 * at either end, not empty, and unlike every earlier name (ASCII letters
 * compared without case, as Excel does; "History" is Excel's own): else
 * " (2)", " (3)", ... after a shortened want. Records it. */
static int sheet_name(struct xlsx *x, const char *want, char out[XLSX_SHEET_NAME_BYTES])
{
    const unsigned char *p = (const unsigned char *)want;
    char base[XLSX_SHEET_NAME_BYTES];
    size_t o = 0, units = 0;

    while (*p && units < XLSX_SHEET_NAME) {
        size_t n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        size_t u = n == 4 ? 2 : 1;
        if (units + u > XLSX_SHEET_NAME)
            break;
        bool bad = *p < 0x20 || *p == 0x7F || strchr("[]:*?/\\", *p) ||
                   (*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0);
        if (bad) {
            base[o++] = '_';
            for (size_t k = 0; k < n && *p; k++)
                p++;
        } else {
            for (size_t k = 0; k < n && *p; k++)
                base[o++] = (char)*p++;
        }
        units += u;
    }
    base[o] = '\0';
    if (!o)
        base[o++] = '_', base[o] = '\0';
    if (base[0] == '\'')
        base[0] = '_';
    if (base[o - 1] == '\'')
        base[o - 1] = '_';
    snprintf(out, XLSX_SHEET_NAME_BYTES, "%s", base);
    for (unsigned k = 2; name_taken(x, out) || !strcasecmp(out, "History"); k++) {
        char suffix[16];
        int len = snprintf(suffix, sizeof suffix, " (%u)", k);
        /* Shorten base by whole characters until the suffix fits. */
        size_t keep = strlen(base);
        while (keep && name_units(base) + (size_t)len > XLSX_SHEET_NAME) {
            do
                keep--;
            while (keep && ((unsigned char)base[keep] & 0xC0) == 0x80);
            base[keep] = '\0';
        }
        /* At most 31 units of at most 4 bytes each, the suffix's included:
         * it fits (snprintf would make -Wformat-truncation guess). */
        size_t b = strlen(base);
        assert(b + (size_t)len < XLSX_SHEET_NAME_BYTES);
        memcpy(out, base, b);
        memcpy(out + b, suffix, (size_t)len + 1);
    }
    if (x->n_names == x->names_size) {
        size_t size = x->names_size ? 2 * x->names_size : 16;
        void *grown = realloc(x->names, size * sizeof *x->names);
        if (!grown)
            return KPI_ENOMEM;
        x->names = grown;
        x->names_size = size;
    }
    memcpy(x->names[x->n_names++], out, XLSX_SHEET_NAME_BYTES);
    return 0;
}

/* What every sheet has: the header row frozen (and first_cols columns),
 * the widths found, A4 landscape one page wide, the header row repeated
 * on every page. */
static void finish_sheet(struct xlsx *x, lxw_worksheet *ws, lxw_col_t n_cols, lxw_col_t first_cols)
{
    for (lxw_col_t c = 0; c < n_cols; c++)
        check(x, worksheet_set_column(ws, c, c, fmin(x->width[c] + 2, XLSX_WIDTH_MAX), NULL));
    worksheet_freeze_panes(ws, 1, first_cols);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_set_landscape(ws);
    worksheet_fit_to_pages(ws, 1, 0);
    check(x, worksheet_repeat_rows(ws, 0, 0));
}

static lxw_worksheet *add_sheet(struct xlsx *x, const char *name)
{
    lxw_worksheet *ws = workbook_add_worksheet(x->wb, name);
    if (!ws)
        check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
    return ws;
}

/* The header row of a KPI sheet: the column headers in the report's
 * language, a spread column's the names in indicators.csv. */
static void put_kpi_header(struct xlsx *x, const struct kpi_report *rep, lxw_worksheet *ws)
{
    for (size_t j = 0; j < x->n_slots; j++) {
        const struct slot *s = &x->slots[j];
        lxw_col_t col = (lxw_col_t)j;
        x->width[col] = 0;
        if (s->kind == SLOT_TABLE && (s->col->formats & KPI_COL_SPREAD))
            put_text(x, ws, 0, col, rep->extra_columns[s->extra], x->header, x->header_guarded);
        else if (s->kind == SLOT_TABLE)
            put_text(x, ws, 0, col, kpi_column_header(rep, s->col), x->header, x->header);
        else
            put_text(x, ws, 0, col,
                     kpi_word(rep->params->lang, s->kind == SLOT_SCORED_WEIGHT
                                                     ? "scored_weight"
                                                     : "unscored_weight"),
                     x->header, x->header);
    }
}

/* KPI i in row `row`: the table's cells, then the weight it counts at in
 * its departments' achievement when scored, or when not (by
 * kpi_rollup_unscored_weight), the other 0. */
static void put_kpi_row(struct xlsx *x, const struct kpi_report *rep, lxw_worksheet *ws,
                        lxw_row_t row, size_t i)
{
    const struct kpi_column *done = NULL;
    struct kpi_cell cell;
    bool ok = rep->rows[i].status == KPI_STATUS_OK;

    for (size_t j = 0; j < x->n_slots; j++) {
        const struct slot *s = &x->slots[j];
        if (s->kind == SLOT_SCORED_WEIGHT) {
            put_number(x, ws, row, (lxw_col_t)j, ok ? rep->kpis[i].weight : 0, NULL, 0);
            continue;
        }
        if (s->kind == SLOT_UNSCORED_WEIGHT) {
            put_number(x, ws, row, (lxw_col_t)j,
                       ok ? 0 : kpi_rollup_unscored_weight(&rep->kpis[i]), NULL, 0);
            continue;
        }
        if (s->col != done) { /* a spread column's cell serves all its slots */
            cell.as_written = NULL;
            cell.type = KPI_CELL_NULL;
            s->col->get(rep, i, s->col->arg, &cell);
            done = s->col;
        }
        put_cell(x, rep, ws, row, (lxw_col_t)j, &cell, s->extra);
    }
}

/* KPIs first..end as sheets of at most x->sheet_rows rows each, named
 * names[0], names[1], ... */
static void put_kpi_sheets(struct xlsx *x, const struct kpi_report *rep, size_t first, size_t end,
                           const char (*names)[XLSX_SHEET_NAME_BYTES], size_t n_sheets)
{
    for (size_t p = 0; p < n_sheets && !x->failed; p++) {
        size_t from = first + p * x->sheet_rows;
        size_t to = from + x->sheet_rows < end ? from + x->sheet_rows : end;
        lxw_worksheet *ws = add_sheet(x, names[p]);
        if (!ws)
            return;
        /* Before any row: constant_memory mode refuses rows already written. */
        check(x, worksheet_autofilter(ws, 0, 0, (lxw_row_t)(to - from), (lxw_col_t)(x->n_slots - 1)));
        put_kpi_header(x, rep, ws);
        for (size_t i = from; i < to && !x->failed; i++)
            put_kpi_row(x, rep, ws, (lxw_row_t)(i - from + 1), i);
        finish_sheet(x, ws, (lxw_col_t)x->n_slots, 2);
        for (lxw_col_t c = x->scored_col; c <= x->unscored_col; c++)
            check(x, worksheet_set_column_opt(ws, c, c, fmin(x->width[c] + 2, XLSX_WIDTH_MAX), NULL,
                                              &(lxw_row_col_options){.hidden = 1}));
    }
}

/* Names the sheets of n KPIs: base, then base (2), ... */
static int name_kpi_sheets(struct xlsx *x, const char *base, size_t n,
                           char (**names)[XLSX_SHEET_NAME_BYTES], size_t *n_sheets)
{
    *n_sheets = n ? (n + x->sheet_rows - 1) / x->sheet_rows : 1;
    *names = calloc(*n_sheets, sizeof **names);
    if (!*names)
        return KPI_ENOMEM;
    for (size_t p = 0; p < *n_sheets; p++) {
        char want[XLSX_SHEET_NAME_BYTES + 24];
        snprintf(want, sizeof want, p ? "%s (%zu)" : "%s", base, p + 1);
        if (sheet_name(x, want, (*names)[p]))
            return KPI_ENOMEM;
    }
    return 0;
}

/* ---- the overview and its formulas -------------------------------------- */

static void column_letters(lxw_col_t col, char out[4])
{
    char rev[4];
    size_t n = 0;
    for (unsigned c = (unsigned)col + 1; c; c = (c - 1) / 26)
        rev[n++] = (char)('A' + (c - 1) % 26);
    for (size_t k = 0; k < n; k++)
        out[k] = rev[n - 1 - k];
    out[n] = '\0';
}

/* Appends to f (at *used) each part of KPIs first..end on the all-KPIs
 * sheets as `tmpl`, one of "SUMPRODUCT(%1,%2)" or "SUM(%1)", %1 being the
 * range of column a and %2 of column b, joined by '+'. */
static void append_ranges(struct xlsx *x, char *f, size_t *used, size_t first, size_t end,
                          bool product, lxw_col_t a, lxw_col_t b)
{
    char la[4], lb[4];
    column_letters(a, la);
    column_letters(b, lb);
    for (size_t p = first / x->sheet_rows; p * x->sheet_rows < end; p++) {
        size_t from = p * x->sheet_rows > first ? p * x->sheet_rows : first;
        size_t to = (p + 1) * x->sheet_rows < end ? (p + 1) * x->sheet_rows : end;
        size_t r1 = from - p * x->sheet_rows + 2, r2 = to - p * x->sheet_rows + 1;
        char sheet[2 * XLSX_SHEET_NAME_BYTES + 2], *q = sheet;
        *q++ = '\'';
        for (const char *s = x->kpi_sheets[p]; *s; s++) {
            if (*s == '\'')
                *q++ = '\'';
            *q++ = *s;
        }
        *q++ = '\'';
        *q = '\0';
        int n;
        if (product)
            n = snprintf(f + *used, XLSX_FORMULA_BYTES - *used,
                         "%sSUMPRODUCT(%s!$%s$%zu:$%s$%zu,%s!$%s$%zu:$%s$%zu)",
                         p * x->sheet_rows > first ? "+" : "", sheet, la, r1, la, r2, sheet, lb,
                         r1, lb, r2);
        else
            n = snprintf(f + *used, XLSX_FORMULA_BYTES - *used, "%sSUM(%s!$%s$%zu:$%s$%zu)",
                         p * x->sheet_rows > first ? "+" : "", sheet, la, r1, la, r2);
        *used += (size_t)n;
        if (*used >= XLSX_FORMULA_BYTES) {
            check(x, LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED); /* a formula too long */
            *used = XLSX_FORMULA_BYTES - 1;
            return;
        }
    }
}

/* The achievement of the KPIs first..end: capped achievements weighted by
 * the scored weights, over the scored weights and, when unscored KPIs
 * count as 0, their weights:
 *   =SUMPRODUCT(capped,scored)/(SUM(scored)+SUM(unscored))
 * The coverage, in percent: =SUM(scored)*100/(SUM(scored)+SUM(unscored)). */
static void formula(struct xlsx *x, const struct kpi_report *rep, size_t first, size_t end,
                    bool coverage, char f[XLSX_FORMULA_BYTES])
{
    bool zero = rep->params->grades->unscored == KPI_UNSCORED_ZERO;
    /* KPIs on more than one sheet: a sum of a term per sheet, in brackets. */
    bool sheets = first / x->sheet_rows != (end - 1) / x->sheet_rows;
    size_t used = (size_t)snprintf(f, XLSX_FORMULA_BYTES, sheets ? "=(" : "=");
    if (coverage)
        append_ranges(x, f, &used, first, end, false, x->scored_col, 0);
    else
        append_ranges(x, f, &used, first, end, true, x->capped_col, x->scored_col);
    used += (size_t)snprintf(f + used, XLSX_FORMULA_BYTES - used, "%s%s", sheets ? ")" : "",
                             coverage ? "*100/(" : "/(");
    append_ranges(x, f, &used, first, end, false, x->scored_col, 0);
    if (zero || coverage) {
        f[used++] = '+';
        append_ranges(x, f, &used, first, end, false, x->unscored_col, 0);
    }
    snprintf(f + used, XLSX_FORMULA_BYTES - used, ")");
}

/* Department node i of view (a department, or the overall row) in row
 * `row` of the overview: the department table's CSV columns; the path
 * indented by depth; coverage and achievement as formulas over the KPIs
 * first..end with the engine's figures as their cached values. */
static void put_department_row(struct xlsx *x, const struct kpi_report *view, lxw_worksheet *ws,
                               lxw_row_t row, size_t i, size_t first, size_t end, unsigned depth)
{
    size_t n_cols;
    const struct kpi_column *cols = kpi_columns_department(&n_cols);
    char f[XLSX_FORMULA_BYTES];
    lxw_col_t col = 0;

    for (size_t j = 0; j < n_cols; j++) {
        struct kpi_cell cell = {.type = KPI_CELL_NULL};
        if (!(cols[j].formats & KPI_COL_CSV))
            continue;
        cols[j].get(view, i, cols[j].arg, &cell);
        bool live = !strcmp(cols[j].name, "achievement") || !strcmp(cols[j].name, "coverage");
        if (!strcmp(cols[j].name, "department")) {
            unsigned d = depth < XLSX_INDENT_MAX ? depth : XLSX_INDENT_MAX;
            put_text(x, ws, row, col, cell.text, x->indent[d][0], x->indent[d][1]);
            widen(x, col, text_width(cell.text) + 2 * d);
        } else if (live && cell.type == KPI_CELL_RATE && first < end) {
            formula(x, view, first, end, !strcmp(cols[j].name, "coverage"), f);
            check(x, worksheet_write_formula_num(ws, row, col, f, x->rate, cell.number));
            widen(x, col, number_width(cell.number, 2));
        } else {
            put_cell(x, view, ws, row, col, &cell, 0);
        }
        col++;
    }
}

static void put_overview(struct xlsx *x, const struct kpi_report *rep, const char *name)
{
    size_t n_cols;
    const struct kpi_column *cols = kpi_columns_department(&n_cols);
    lxw_worksheet *ws = add_sheet(x, name);
    lxw_col_t col = 0;
    size_t first = 0, end;

    if (!ws)
        return;
    for (size_t j = 0; j < n_cols; j++)
        col += (cols[j].formats & KPI_COL_CSV) != 0;
    /* Before any row: constant_memory mode refuses rows already written. */
    check(x, worksheet_autofilter(ws, 0, 0, (lxw_row_t)rep->n_departments, (lxw_col_t)(col - 1)));
    col = 0;
    for (size_t j = 0; j < n_cols; j++) {
        if (!(cols[j].formats & KPI_COL_CSV))
            continue;
        x->width[col] = 0;
        put_text(x, ws, 0, col++, kpi_column_header(rep, &cols[j]), x->header, x->header);
    }
    for (size_t d = 0; d < rep->n_departments && !x->failed; d++) {
        kpi_report_subtree(rep, d, first, &first, &end);
        put_department_row(x, rep, ws, (lxw_row_t)(d + 1), d, first, end,
                           rep->departments[d].depth);
    }
    /* The overall row: the department columns' getters over a view whose
     * one department is "(overall)" with the overall totals. */
    struct kpi_department all = {.path = kpi_word(rep->params->lang, "(overall)"),
                                 .parent = KPI_NONE};
    struct kpi_report view = *rep;
    all.name = all.path;
    view.departments = &all;
    view.summaries = rep->overall;
    view.n_departments = 1;
    put_department_row(x, &view, ws, (lxw_row_t)(rep->n_departments + 1), 0, 0, rep->n_kpis, 0);
    finish_sheet(x, ws, col, 1);
}

/* ---- the sink ----------------------------------------------------------- */

static int make_slots(struct xlsx *x, const struct kpi_report *rep)
{
    size_t n_cols, n_department_cols, n = 2;
    const struct kpi_column *cols = kpi_columns_kpi(&n_cols);

    for (size_t j = 0; j < n_cols; j++)
        if (has_column(rep, &cols[j]))
            n += cols[j].formats & KPI_COL_SPREAD ? rep->n_extra_columns : 1;
    kpi_columns_department(&n_department_cols); /* the overview's, at most */
    if (!(x->slots = calloc(n, sizeof *x->slots)) ||
        !(x->width = calloc(n + n_department_cols, sizeof *x->width)))
        return KPI_ENOMEM;
    for (size_t j = 0; j < n_cols; j++) {
        if (!has_column(rep, &cols[j]))
            continue;
        size_t spread = cols[j].formats & KPI_COL_SPREAD ? rep->n_extra_columns : 1;
        for (size_t e = 0; e < spread; e++) {
            if (!strcmp(cols[j].name, "achievement_capped"))
                x->capped_col = (lxw_col_t)x->n_slots;
            x->slots[x->n_slots++] = (struct slot){SLOT_TABLE, &cols[j], e};
        }
    }
    x->scored_col = (lxw_col_t)x->n_slots;
    x->slots[x->n_slots++] = (struct slot){SLOT_SCORED_WEIGHT, NULL, 0};
    x->unscored_col = (lxw_col_t)x->n_slots;
    x->slots[x->n_slots++] = (struct slot){SLOT_UNSCORED_WEIGHT, NULL, 0};
    assert(x->n_slots == n && x->capped_col > 0);
    return 0;
}

static void release(struct xlsx *x)
{
    free(x->slots);
    free(x->width);
    free(x->names);
    free(x->kpi_sheets);
}

/* Rows per KPI sheet: Excel's limit but the header row, or fewer through
 * KPIEVAL_XLSX_SHEET_ROWS (for the tests, which cannot afford a million
 * rows to see a department's formula span two sheets). */
static size_t sheet_rows(void)
{
    const char *s = getenv("KPIEVAL_XLSX_SHEET_ROWS");
    double v;
    if (s && kpi_text_parse_number(s, &v) == KPI_NUMBER_OK && v >= 1 && v < XLSX_ROWS &&
        v == floor(v))
        return (size_t)v;
    return XLSX_ROWS - 1;
}

/* When the workbook was made: when the run started (provenance.h, which
 * honours SOURCE_DATE_EPOCH, so two runs can give the same bytes); now
 * for a report without provenance. */
static time_t created(const struct kpi_report *rep)
{
    const struct kpi_provenance *pv = rep->params->provenance;
    struct tm tm = {0};
    if (pv && kpi_provenance_time_ok(pv->started) &&
        sscanf(pv->started, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return timegm(&tm);
    }
    return time(NULL);
}

/* s as a custom document property holds it: its visible form cut with
 * "…" at 255 bytes (Excel's limit is 255 characters); the provenance
 * sheet has it whole. */
static const char *property_text(struct xlsx *x, const char *s)
{
    static const char more[] = "\u2026";
    if (kpi_text_visible(s, x->text, XLSX_PROPERTY_BYTES + 1) > XLSX_PROPERTY_BYTES) {
        kpi_text_visible(s, x->text, XLSX_PROPERTY_BYTES + 1 - (sizeof more - 1));
        strcat(x->text, more);
    }
    return x->text;
}

/* One row of the provenance sheet: what, its name, its value, rows. */
static void put_provenance_row(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, const char *what,
                               const char *name, const char *value, double rows, bool has_rows)
{
    const char *cells[] = {what, name, value};
    for (lxw_col_t c = 0; c < 3; c++)
        if (cells[c])
            put_text(x, ws, row, c, cells[c], NULL, x->guarded);
    if (has_rows)
        put_number(x, ws, row, 3, rows, x->whole, 0);
}

/* Where the report came from: in the document's custom properties
 * (version, command, times, settings) and, with the files read and their
 * SHA-256, on a sheet of its own, the last. */
static void put_provenance(struct xlsx *x, const struct kpi_report *rep)
{
    static const char *const kinds[KPI_PROVENANCE_KINDS] = {"input", "formula file"};
    static const char *const headers[] = {"item", "name", "value", "rows"};
    const struct kpi_provenance *pv = rep->params->provenance;
    enum kpi_lang lang = rep->params->lang;
    const char *runs[][2] = {{"version", pv->version}, {"command", pv->command},
                             {"started", pv->started}, {"finished", pv->finished}};
    char name[XLSX_SHEET_NAME_BYTES];
    lxw_row_t row = 0;
    lxw_worksheet *ws;

    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        if (runs[i][1] && *runs[i][1])
            check(x, workbook_set_custom_property_string(x->wb, runs[i][0],
                                                         property_text(x, runs[i][1])));
    for (size_t i = 0; i < pv->n_settings; i++)
        check(x, workbook_set_custom_property_string(x->wb, pv->settings[i].name,
                                                     property_text(x, pv->settings[i].value)));
    if (sheet_name(x, kpi_word(lang, "provenance"), name) || !(ws = add_sheet(x, name))) {
        check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
        return;
    }
    for (lxw_col_t c = 0; c < 4; c++) {
        x->width[c] = 0;
        put_text(x, ws, row, c, kpi_word(lang, headers[c]), x->header, x->header);
    }
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        put_provenance_row(x, ws, ++row, kpi_word(lang, runs[i][0]), NULL,
                           runs[i][1] && *runs[i][1] ? runs[i][1] : NULL, 0, false);
    for (size_t i = 0; i < pv->n_settings; i++)
        put_provenance_row(x, ws, ++row, kpi_word(lang, "setting"), pv->settings[i].name,
                           pv->settings[i].value, 0, false);
    for (int k = 0; k < KPI_PROVENANCE_KINDS; k++)
        for (size_t i = 0; i < pv->n_files[k]; i++)
            put_provenance_row(x, ws, ++row, kpi_word(lang, kinds[k]), pv->files[k][i].path,
                               pv->files[k][i].sha256, (double)pv->files[k][i].rows, true);
    finish_sheet(x, ws, 4, 0);
}

int kpi_xlsx_prepare(const struct kpi_sink *self, const struct kpi_report *rep, const char *dir,
                     void **state, struct kpi_error *err)
{
    char path[4096];
    struct xlsx *x = calloc(1, sizeof *x);
    /* Rows go to temporary files in the staging folder, not /tmp (often
     * memory): unlinked at once, so nothing is left if the run dies. */
    lxw_workbook_options opt = {.constant_memory = 1, .tmpdir = (char *)(uintptr_t)dir,
                                /* one sheet's XML can pass 4 GB */
                                .use_zip64 = rep->n_kpis > 400000};

    if (!x)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    x->name = self->name;
    x->sheet_rows = sheet_rows();
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, self->name) >= sizeof path) {
        free(x);
        return kpi_error_set(err, KPI_EIO, "%s/%s: path too long", dir, self->name);
    }
    if (!(x->wb = workbook_new_opt(path, &opt))) {
        free(x);
        return kpi_error_set(err, KPI_EIO, "%s: cannot create", path);
    }
    *state = x;
    return 0;
}

int kpi_write_xlsx(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    struct xlsx *x = state;
    enum kpi_lang lang = rep->params->lang;
    char title[256], subject[1024], author[] = "kpieval", overview[XLSX_SHEET_NAME_BYTES];
    lxw_doc_properties props = {.author = author, .created = created(rep)};
    size_t first = 0, end;
    int rc;

    assert(rep->params && rep->params->grades);
    snprintf(title, sizeof title, "%s", kpi_word(lang, "KPI evaluation report"));
    snprintf(subject, sizeof subject, "%s%s%s", rep->params->dataset ? rep->params->dataset : "",
             rep->params->period ? " " : "", rep->params->period ? rep->params->period : "");
    props.title = title;
    props.subject = (char *)(uintptr_t)cell_text(x, subject);
    check(x, workbook_set_properties(x->wb, &props));
    if (!rep->params->provenance) /* else among its settings */
        check(x, workbook_set_custom_property_string(
                     x->wb, "unscored", kpi_unscored_name(rep->params->grades->unscored)));
    make_formats(x);
    if ((rc = make_slots(x, rep)) || (rc = sheet_name(x, kpi_word(lang, "overview"), overview)) ||
        (rc = name_kpi_sheets(x, kpi_word(lang, "all KPIs"), rep->n_kpis, &x->kpi_sheets,
                              &x->n_kpi_sheets)))
        return kpi_error_set(err, rc, "out of memory");
    put_overview(x, rep, overview);
    put_kpi_sheets(x, rep, 0, rep->n_kpis, (const char(*)[XLSX_SHEET_NAME_BYTES])x->kpi_sheets,
                   x->n_kpi_sheets);

    /* A sheet per top-level department, unless there are too many. */
    size_t tops = 0;
    for (size_t d = 0; d < rep->n_departments; d++)
        tops += rep->departments[d].depth == 0;
    for (size_t d = 0; d < rep->n_departments && tops <= XLSX_DEPARTMENT_SHEETS_MAX && !x->failed;
         d++) {
        char(*names)[XLSX_SHEET_NAME_BYTES];
        size_t n_sheets;
        if (rep->departments[d].depth != 0)
            continue;
        kpi_report_subtree(rep, d, first, &first, &end);
        if ((rc = name_kpi_sheets(x, rep->departments[d].name, end - first, &names, &n_sheets)))
            return kpi_error_set(err, rc, "out of memory");
        put_kpi_sheets(x, rep, first, end, (const char(*)[XLSX_SHEET_NAME_BYTES])names, n_sheets);
        free(names);
    }
    if (rep->params->provenance && !x->failed)
        put_provenance(x, rep);
    if (x->failed)
        return kpi_error_set(err, x->failed == LXW_ERROR_MEMORY_MALLOC_FAILED ? KPI_ENOMEM : KPI_EIO,
                             "%s: %s", x->name, lxw_strerror(x->failed));
    return 0;
}

int kpi_xlsx_commit(void *state, struct kpi_error *err)
{
    struct xlsx *x = state;
    lxw_error e = workbook_close(x->wb); /* writes the file; frees the workbook */
    int rc = 0;

    if (e != LXW_NO_ERROR)
        rc = kpi_error_set(err, KPI_EIO, "%s: write failed: %s", x->name, lxw_strerror(e));
    release(x);
    free(x);
    return rc;
}

void kpi_xlsx_abort(void *state)
{
    struct xlsx *x = state;
    lxw_worksheet *ws;

    /* lxw_workbook_free() leaves the sheets' temporary files open. */
    LXW_FOREACH_WORKSHEET(ws, x->wb)
    {
        if (ws->optimize_tmpfile)
            fclose(ws->optimize_tmpfile);
        ws->optimize_tmpfile = ws->file = NULL;
    }
    lxw_workbook_free(x->wb);
    release(x);
    free(x);
}
