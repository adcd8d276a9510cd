/* report.html: the report for people, one self-contained file (inline
 * CSS, no script, no link to anything outside the report folder) that
 * reads on screen and prints on A4: the departments in tree order with
 * their achievement as a bar, then each department's KPIs with how each
 * number was made, then the warnings and the run's parameters.
 *
 * What a row shows is the column tables' (columns.h): a table below says
 * only where a column goes (the KPI's main row, its details, nowhere), so
 * a new column shows up in the details without a change here. Every text
 * from the inputs is HTML-escaped and its control characters shown as
 * \xHH (text.h). Above KPI_HTML_KPIS_MAX KPIs the KPIs are not inlined,
 * and above KPI_HTML_DEPARTMENTS_MAX departments only the upper levels are
 * listed (limits.h says why). Nothing run-specific is written but the
 * provenance's command and times, each on a line of its own, so a merge
 * writes the same page as a whole run but for those lines. */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kpieval/columns.h"
#include "kpieval/limits.h"
#include "kpieval/score.h"
#include "text.h"
#include "words.h"
#include "writers.h"

#ifndef KPIEVAL_VERSION
#define KPIEVAL_VERSION "unknown"
#endif

/* The achievement at a bar's full width, in percent: above the default
 * cap (120), so capped figures fit and 100% sits at four fifths. */
#define BAR_SCALE 125.0

/* Where a column of the tables goes. */
enum place {
    PLACE_MAIN,   /* a column of the table (a KPI's main row, the overview) */
    PLACE_DETAIL, /* a KPI's "how it was made" list; a department's summary */
    PLACE_OMIT,   /* shown otherwise (the section's title, with another column) */
    PLACE_NAME,   /* the department's name cell of the overview */
    PLACE_NOTE,   /* a note under the department's name (the grade note) */
    PLACE_FILE    /* the department's file under departments/: its link */
};

struct placement {
    const char *column;
    enum place place;
};

/* KPI columns not named here are details. */
static const struct placement kpi_places[] = {
    {"id", PLACE_MAIN},          {"name", PLACE_MAIN},         {"department", PLACE_OMIT},
    {"unit", PLACE_MAIN},        {"baseline", PLACE_MAIN},     {"target", PLACE_MAIN},
    {"input_lines", PLACE_OMIT}, {"actual", PLACE_MAIN},       {"achievement", PLACE_MAIN},
    {"band", PLACE_MAIN},        {"weight", PLACE_MAIN},       {"depends_on", PLACE_OMIT},
    {"filled", PLACE_OMIT}, /* shown with the inputs */
};

/* Department columns not named here are columns of the overview. */
static const struct placement department_places[] = {
    {"department", PLACE_NAME},        {"parent", PLACE_OMIT},      {"weight", PLACE_DETAIL},
    {"unscored_weight", PLACE_DETAIL}, {"grade_note", PLACE_NOTE},  {"report", PLACE_FILE},
};

/* How a KPI's band reads without colour: a mark beside its word, and a
 * bar pattern (style sheet) by class. Indexed by enum kpi_band. */
static const struct band_style {
    const char *class_name, *mark;
} band_styles[KPI_BAND_COUNT] = {
    [KPI_BAND_EXCEEDED] = {"ex", "\xE2\x96\xB2"}, /* ▲ */
    [KPI_BAND_MET] = {"met", "\xE2\x97\x8F"},      /* ● */
    [KPI_BAND_BELOW] = {"below", "\xE2\x96\xBC"},  /* ▼ */
    [KPI_BAND_NO_DATA] = {"none", "\xE2\x97\x8B"}, /* ○ */
    [KPI_BAND_ERROR] = {"err", "\xE2\x9C\x95"},    /* ✕ */
};

#define COLUMNS_MAX 64

struct html {
    FILE *f;
    const struct kpi_report *rep;
    enum kpi_lang lang;
    const struct kpi_column *kcols, *dcols;
    size_t n_kcols, n_dcols;
    enum place kplace[COLUMNS_MAX], dplace[COLUMNS_MAX];
    bool figures[COLUMNS_MAX]; /* of the table being written: set right */
    bool inline_kpis;        /* each department's KPIs on this page */
    bool department_files;   /* departments/ is written beside it */
    unsigned depth_shown;    /* the overview lists departments of depth < this */
    size_t departments_shown;
};

/* The colours: each status reads without them too (a mark, a pattern). */
#define COLOUR_INK             "#1b2430"
#define COLOUR_MUTED           "#5d6876"
#define COLOUR_LINE            "#d5dbe3"
#define COLOUR_HEAD            "#f2f4f7"
#define COLOUR_ACCENT          "#1f3a5f"
#define COLOUR_DEPARTMENT_BAR  "#34628f"
#define COLOUR_EXCEEDED        "#1d6a50"
#define COLOUR_MET             "#2f77b4"
#define COLOUR_BELOW           "#b5651d"
#define COLOUR_ERROR           "#b42318"

static const char style_sheet[] =
    "*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "html{font-family:\"Malgun Gothic\",\"\xEB\xA7\x91\xEC\x9D\x80 \xEA\xB3\xA0\xEB\x94\x95\","
    "\"Apple SD Gothic Neo\",\"Noto Sans CJK KR\",\"Noto Sans KR\",sans-serif;"
    "color:" COLOUR_INK ";background:#fff;font-size:14px;line-height:1.45}\n"
    "body{margin:0 auto;padding:28px 32px 48px;max-width:1240px}\n"
    "h1{font-size:26px;margin:0 0 4px;letter-spacing:-.01em}\n"
    "h2{font-size:19px;margin:32px 0 8px;padding-bottom:6px;border-bottom:2px solid " COLOUR_ACCENT ";"
    "break-after:avoid}\n"
    "h2 small{font-weight:400;color:" COLOUR_MUTED ";font-size:14px}\n"
    "a{color:" COLOUR_ACCENT "}\n"
    ".kicker{margin:0;color:" COLOUR_MUTED ";font-size:12px;letter-spacing:.08em;text-transform:uppercase}\n"
    ".meta{margin:2px 0 0;color:" COLOUR_MUTED "}.meta b{color:" COLOUR_INK ";font-weight:600}\n"
    "header.top{display:flex;flex-wrap:wrap;gap:20px 40px;align-items:flex-end;"
    "justify-content:space-between;padding-bottom:16px;border-bottom:1px solid " COLOUR_LINE "}\n"
    ".tiles{display:flex;flex-wrap:wrap;gap:8px;margin:0}\n"
    ".tile{border:1px solid " COLOUR_LINE ";border-radius:6px;padding:6px 12px;min-width:76px;"
    "background:" COLOUR_HEAD "}\n"
    ".tile dt{font-size:11px;color:" COLOUR_MUTED "}.tile dd{margin:0;font-size:18px;font-weight:600;"
    "font-variant-numeric:tabular-nums}\n"
    ".tile.achievement dd{font-size:24px;color:" COLOUR_ACCENT "}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
    "thead{display:table-header-group}tfoot{display:table-row-group}\n"
    "th{background:" COLOUR_HEAD ";color:" COLOUR_MUTED ";font-weight:600;font-size:12px;text-align:left;"
    "padding:6px 8px;border-bottom:1px solid " COLOUR_LINE ";white-space:nowrap}\n"
    "td{padding:5px 8px;border-bottom:1px solid " COLOUR_LINE ";vertical-align:top}\n"
    "tr{break-inside:avoid}\n"
    "td.n,th.n{text-align:right;white-space:nowrap}\n"
    ".na{color:#9aa3ad}.z{color:#b3bac3}\n"
    ".hot{color:" COLOUR_ERROR ";font-weight:600}\n"
    "td.dep{white-space:nowrap;padding-left:8px}\n"
    "td.dep a{text-decoration:none;color:" COLOUR_INK "}td.dep.top a{font-weight:700}\n"
    "td.dep a:hover{text-decoration:underline}\n"
    ".note{white-space:normal;font-size:11.5px;color:" COLOUR_BELOW ";margin-top:2px}\n"
    "tfoot td{border-top:2px solid " COLOUR_INK ";font-weight:700;background:" COLOUR_HEAD "}\n"
    ".rate{display:flex;align-items:center;gap:8px;justify-content:flex-end}\n"
    ".rate b{font-weight:600;min-width:64px;text-align:right}\n"
    ".bar{position:relative;flex:0 0 auto;width:150px;height:12px;background:#eef1f5;"
    "border:1px solid #8d97a3;border-radius:2px}\n"
    ".bar i{position:absolute;left:0;top:0;bottom:0;background:" COLOUR_DEPARTMENT_BAR "}\n"
    /* the 100% line: 100 / BAR_SCALE of the width */
    ".bar::after{content:\"\";position:absolute;left:80%;top:-4px;bottom:-4px;width:2px;"
    "background:" COLOUR_INK "}\n"
    ".bar.over i{border-right:4px double #fff}\n"
    ".bar i.ex{background:" COLOUR_EXCEEDED "}.bar i.met{background:" COLOUR_MET "}\n"
    ".bar i.below{background:repeating-linear-gradient(135deg," COLOUR_BELOW " 0 3px,#f3d3b3 3px 6px)}\n"
    ".band{white-space:nowrap;font-weight:600}.band.ex{color:" COLOUR_EXCEEDED "}.band.met{color:" COLOUR_MET "}"
    ".band.below{color:" COLOUR_BELOW "}.band.none{color:" COLOUR_MUTED "}.band.err{color:" COLOUR_ERROR "}\n"
    ".grade{display:inline-block;min-width:2em;padding:0 6px;border:1.5px solid " COLOUR_INK ";"
    "border-radius:4px;text-align:center;font-weight:700}\n"
    ".tile .grade{font-size:20px}\n"
    ".legend{color:" COLOUR_MUTED ";font-size:12px;margin:6px 0 0}\n"
    ".warnings{border-left:4px solid " COLOUR_BELOW ";background:#fdf6ee;padding:8px 12px 8px 28px;"
    "margin:0}\n.warnings li{margin:2px 0}\n"
    "section.dep{break-before:auto}\n"
    ".summary{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0 0 10px;color:" COLOUR_MUTED ";"
    "break-after:avoid}\n.summary dt{display:inline}.summary dd{display:inline;margin:0 0 0 6px;"
    "color:" COLOUR_INK ";font-weight:600}\n"
    "table.kpis tbody{break-inside:avoid}\n"
    "table.kpis tbody tr:first-child td{border-bottom:0;padding-top:8px}\n"
    "table.kpis td.id{white-space:nowrap;font-size:12px;color:" COLOUR_MUTED "}\n"
    "table.kpis td.name{font-weight:600}\n"
    "tr.how td{padding:0 8px 10px 24px;font-size:12px;color:" COLOUR_MUTED "}\n"
    "tr.how dl{columns:2 360px;column-gap:28px;margin:0}\n"
    "tr.how dl>div{display:grid;grid-template-columns:10em minmax(0,1fr);gap:0 10px;"
    "break-inside:avoid}\n"
    "tr.how dt{font-weight:600;overflow-wrap:anywhere}tr.how dd{margin:0;color:" COLOUR_INK ";"
    "overflow-wrap:anywhere}\n"
    ".ctl{color:" COLOUR_ERROR ";font-family:monospace}\n"
    ".bad{color:" COLOUR_ERROR ";text-decoration:underline wavy}\n"
    "code{font-family:ui-monospace,\"D2Coding\",\"Noto Sans Mono CJK KR\",monospace;"
    "font-size:12px;background:" COLOUR_HEAD ";padding:0 3px;border-radius:3px}\n"
    ".sub{margin:8px 0 0;color:" COLOUR_MUTED "}.back{margin:6px 0 0;font-size:12px}\n"
    "footer{margin-top:40px;padding-top:12px;border-top:1px solid " COLOUR_LINE ";color:" COLOUR_MUTED ";"
    "font-size:12px;break-inside:avoid}\n"
    "footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}\n"
    "footer dt{font-weight:600}footer dd{margin:0;color:" COLOUR_INK "}\n"
    "footer h3{font-size:13px;margin:12px 0 6px;color:" COLOUR_INK "}\n"
    "footer dl>div{display:contents}footer table{margin-top:8px;font-size:11px}\n"
    "footer td code{font-size:10.5px;overflow-wrap:anywhere}\n"
    "@page{size:A4;margin:14mm 12mm 16mm}\n"
    "@media print{html{font-size:9pt}body{padding:0;max-width:none}h2{font-size:13pt;margin-top:18pt}"
    "h1{font-size:18pt}.bar{width:90px}a{text-decoration:none;color:inherit}"
    ".back{display:none}td,th{padding:3px 5px}.tile dd{font-size:13pt}"
    ".tile.achievement dd{font-size:16pt}}\n";

static enum place place_of(const struct placement *t, size_t n, const char *column,
                           enum place otherwise)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].column, column))
            return t[i].place;
    return otherwise;
}

/* s[0..n) with & < > " ' as character references: safe as element text
 * and inside a quoted attribute. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ref;
        switch (s[i]) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: continue;
        }
        kpi_out_n(f, s + start, i - start);
        kpi_out_s(f, ref);
        start = i + 1;
    }
    kpi_out_n(f, s + start, n - start);
}

/* A text from the inputs, s[0..len), in its visible form (text.h),
 * escaped; in an element (markup) each \xHH is marked so it stands out. */
static void put_text_n(FILE *f, const char *s, size_t len, bool markup)
{
    for (;;) {
        char esc[KPI_VISIBLE_ESCAPE_BUF];
        size_t n = kpi_text_visible_span(s, len);
        put_escaped(f, s, n);
        s += n, len -= n;
        if (!len)
            break;
        n = kpi_text_visible_escape(s, len, esc);
        kpi_out_s(f, markup ? "<span class=\"ctl\">" : "");
        kpi_out_s(f, esc);
        kpi_out_s(f, markup ? "</span>" : "");
        s += n, len -= n;
    }
}

static void put_text(FILE *f, const char *s)
{
    put_text_n(f, s, strlen(s), true);
}

static void put_attr(FILE *f, const char *s)
{
    put_text_n(f, s, strlen(s), false);
}

/* One of kpieval's own words, in the report's language. */
static void put_word(const struct html *h, const char *english)
{
    const char *word = kpi_word(h->lang, english);
    put_escaped(h->f, word, strlen(word));
}

/* A column's header in the report's language. */
static void put_header(FILE *f, const struct kpi_report *rep, const struct kpi_column *col)
{
    const char *header = kpi_column_header(rep, col);
    put_escaped(f, header, strlen(header));
}

static void put_rate(FILE *f, double x)
{
    char buf[KPI_RATE_BUF];
    kpi_out_s(f, kpi_text_format_rate(x, buf));
    kpi_out_c(f, '%');
}

/* The department's anchor on this page: d-NNN, NNN as in its file name. */
static void put_anchor(FILE *f, const struct kpi_department *d)
{
    char buf[16];
    snprintf(buf, sizeof buf, "d-%03u", d->number + 1);
    kpi_out_s(f, buf);
}

/* A relative link to a file of the report folder: every byte outside
 * [A-Za-z0-9/._-] percent-encoded. */
static void put_href_path(FILE *f, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-", *p))
            kpi_out_c(f, *p);
        else {
            kpi_out_c(f, '%');
            kpi_out_c(f, hex[*p >> 4]);
            kpi_out_c(f, hex[*p & 15]);
        }
    }
}

/* An achievement as a bar from 0 to BAR_SCALE with a line at 100%, then
 * its figure; band_class NULL for a department's. */
static void put_bar(FILE *f, double x, const char *band_class)
{
    char width[32];
    double w = x <= 0 ? 0 : x >= BAR_SCALE ? 100 : x / BAR_SCALE * 100;
    snprintf(width, sizeof width, "%.2f", w);
    kpi_out_s(f, x > BAR_SCALE ? "<div class=\"rate\"><span class=\"bar over\"><i"
                               : "<div class=\"rate\"><span class=\"bar\"><i");
    if (band_class) {
        kpi_out_s(f, " class=\"");
        kpi_out_s(f, band_class);
        kpi_out_c(f, '"');
    }
    kpi_out_s(f, " style=\"width:");
    kpi_out_s(f, width);
    kpi_out_s(f, "%\"></i></span><b>");
    put_rate(f, x);
    kpi_out_s(f, "</b></div>");
}

static enum kpi_band band_named(const char *word)
{
    for (int b = 0; b < KPI_BAND_COUNT; b++)
        if (!strcmp(word, kpi_band_name((enum kpi_band)b)))
            return (enum kpi_band)b;
    return KPI_BAND_ERROR;
}

/* A KPI's inputs: name = value (actuals.csv:LINE), the lines that made it;
 * an input if_missing zero filled says so instead of a line. */
static void put_inputs(const struct html *h, const struct kpi_cell *c)
{
    FILE *f = h->f;
    const struct kpi_indicator *k = c->kpi;
    char buf[KPI_NUMBER_BUF], read[KPI_DEPENDENCY_BUF];
    for (unsigned i = 0; i < k->n_inputs; i++) {
        kpi_out_s(f, i ? ", <code>" : "<code>");
        put_text(f, k->inputs[i].name);
        kpi_out_s(f, "</code> = ");
        kpi_out_s(f, kpi_text_format_number(k->inputs[i].value, buf));
        if (kpi_input_is_filled(&k->inputs[i])) {
            kpi_out_s(f, " <span class=\"na\">(");
            put_word(h, "absent, counted as 0");
            kpi_out_s(f, ")</span>");
            continue;
        }
        kpi_out_s(f, " <span class=\"na\">(actuals.csv:");
        kpi_out_u(f, k->inputs[i].line);
        kpi_out_s(f, ")</span>");
    }
    /* The KPIs a composite reads, with the values it read. */
    for (unsigned j = 0; j < k->n_deps; j++) {
        kpi_out_s(f, j || k->n_inputs ? ", <code>" : "<code>");
        put_text(f, kpi_column_dependency(h->rep, c->row, j, read, sizeof read));
        kpi_out_s(f, "</code>");
    }
}

/* The cells of indicators.csv that could not be read, as written. */
static void put_unreadable(const struct html *h, const struct kpi_indicator *k)
{
    bool first = true;
    for (size_t i = 0; i < KPI_UNREADABLE_CELLS; i++) {
        const char *name, *cell = kpi_column_unreadable(k, i, &name);
        if (!cell)
            continue;
        kpi_out_s(h->f, first ? "" : ", ");
        put_word(h, name);
        kpi_out_s(h->f, ": <span class=\"bad\">");
        put_text(h->f, cell);
        kpi_out_s(h->f, "</span>");
        first = false;
    }
}

/* One cell's value as HTML (columns.h says what each type is); name is
 * its column's, for the few that read better with a word around them. */
static void put_cell(const struct html *h, const char *name, const struct kpi_cell *c)
{
    FILE *f = h->f;
    char buf[KPI_RATE_BUF];

    if (c->as_written) { /* a cell that could not be read, as written */
        kpi_out_s(f, "<span class=\"bad\">");
        put_text(f, c->as_written);
        kpi_out_s(f, "</span>");
        return;
    }
    switch (c->type) {
    case KPI_CELL_TEXT:
        if (!strcmp(name, "formula") || !strcmp(name, "scoring_expression")) {
            kpi_out_s(f, "<code>");
            put_text(f, c->text);
            kpi_out_s(f, "</code>");
        } else {
            put_text(f, c->text);
        }
        break;
    case KPI_CELL_WORD: put_word(h, c->text); break;
    case KPI_CELL_NUMBER: kpi_out_s(f, kpi_text_format_number(c->number, buf)); break;
    case KPI_CELL_MEASURE: kpi_out_s(f, kpi_text_format_measure(c->number, buf)); break;
    case KPI_CELL_RATE: put_rate(f, c->number); break;
    case KPI_CELL_COUNT:
        if (!strcmp(name, "line"))
            kpi_out_s(f, "indicators.csv:");
        kpi_out_u(f, c->count);
        break;
    case KPI_CELL_INPUTS: put_inputs(h, c); break;
    case KPI_CELL_CELLS: put_unreadable(h, c->kpi); break;
    default: kpi_out_s(f, "<span class=\"na\">\xE2\x80\x93</span>"); break; /* – */
    }
}

static bool is_number(const struct kpi_cell *c)
{
    return !c->as_written && (c->type == KPI_CELL_NUMBER || c->type == KPI_CELL_MEASURE ||
                              c->type == KPI_CELL_RATE || c->type == KPI_CELL_COUNT);
}

static void get_cell(const struct kpi_report *rep, const struct kpi_column *col, size_t i,
                     struct kpi_cell *c)
{
    c->as_written = NULL;
    c->type = KPI_CELL_NULL;
    col->get(rep, i, col->arg, c);
}

/* Whether column col of rows first..end of view rep holds figures (set
 * right): as the first of them with a value says, a column's kind being
 * fixed. */
static bool holds_figures(const struct kpi_report *rep, const struct kpi_column *col,
                          size_t first, size_t end)
{
    struct kpi_cell cell;
    for (size_t i = first; i < end; i++) {
        get_cell(rep, col, i, &cell);
        if (cell.type != KPI_CELL_NULL && cell.type != KPI_CELL_ABSENT)
            return is_number(&cell);
    }
    return false;
}

/* A table's header row: the columns placed PLACE_MAIN (and the name),
 * each with its name for whoever reads the page by program. Rows
 * first..end of view rep tell which are figures (h->figures). */
static void put_head(struct html *h, const struct kpi_column *cols, size_t n,
                     const enum place *place, const struct kpi_report *rep, size_t first,
                     size_t end)
{
    kpi_out_s(h->f, "<thead><tr>");
    for (size_t j = 0; j < n; j++) {
        if (place[j] != PLACE_MAIN && place[j] != PLACE_NAME)
            continue;
        h->figures[j] = place[j] == PLACE_MAIN && holds_figures(rep, &cols[j], first, end);
        kpi_out_s(h->f, h->figures[j] ? "<th class=\"n\" data-col=\"" : "<th data-col=\"");
        kpi_out_s(h->f, cols[j].name);
        kpi_out_s(h->f, "\">");
        put_header(h->f, h->rep, &cols[j]);
        kpi_out_s(h->f, "</th>");
    }
    kpi_out_s(h->f, "</tr></thead>\n");
}

/* ---- the overview ------------------------------------------------------- */

/* A department's cell: the achievement as a bar (with bars), the grade
 * in a box, counts of KPIs not ok that stand out. */
static void put_department_value(const struct html *h, const struct kpi_column *col,
                                 const struct kpi_cell *c, bool bars)
{
    if (bars && !strcmp(col->name, "achievement") && c->type == KPI_CELL_RATE) {
        put_bar(h->f, c->number, NULL);
    } else if (!strcmp(col->name, "grade") && c->type == KPI_CELL_TEXT) {
        kpi_out_s(h->f, "<span class=\"grade\">");
        put_text(h->f, c->text);
        kpi_out_s(h->f, "</span>");
    } else if (c->type == KPI_CELL_COUNT && c->count && strcmp(col->name, "kpis") &&
               strcmp(col->name, "ok")) {
        kpi_out_s(h->f, "<span class=\"hot\">");
        put_cell(h, col->name, c);
        kpi_out_s(h->f, "</span>");
    } else {
        put_cell(h, col->name, c);
    }
}

/* Department row i of view rep as header: value pairs of a <dl>: as
 * tiles (PLACE_MAIN), or every column but the name and the file's. */
static void put_department_pairs(const struct html *h, const struct kpi_report *rep, size_t i,
                                 bool tiles)
{
    struct kpi_cell cell;
    for (size_t j = 0; j < h->n_dcols; j++) {
        enum place p = h->dplace[j];
        if (tiles ? p != PLACE_MAIN : p != PLACE_MAIN && p != PLACE_DETAIL && p != PLACE_NOTE)
            continue;
        get_cell(rep, &h->dcols[j], i, &cell);
        if (cell.type == KPI_CELL_ABSENT || (p == PLACE_NOTE && cell.type == KPI_CELL_NULL))
            continue;
        kpi_out_s(h->f, tiles ? "<div class=\"tile " : "<div><dt>");
        if (tiles) {
            kpi_out_s(h->f, h->dcols[j].name);
            kpi_out_s(h->f, "\"><dt>");
        }
        put_header(h->f, rep, &h->dcols[j]);
        kpi_out_s(h->f, "</dt><dd>");
        put_department_value(h, &h->dcols[j], &cell, false);
        kpi_out_s(h->f, "</dd></div>");
    }
}

/* The figure cells of department row i of view rep (PLACE_MAIN). */
static void put_department_figures(const struct html *h, const struct kpi_report *rep, size_t i)
{
    struct kpi_cell cell;
    for (size_t j = 0; j < h->n_dcols; j++) {
        if (h->dplace[j] != PLACE_MAIN)
            continue;
        get_cell(rep, &h->dcols[j], i, &cell);
        if (cell.type == KPI_CELL_ABSENT)
            cell.type = KPI_CELL_NULL;
        kpi_out_s(h->f, !h->figures[j]                                 ? "<td>"
                        : cell.type == KPI_CELL_COUNT && !cell.count ? "<td class=\"n z\">"
                                                                     : "<td class=\"n\">");
        put_department_value(h, &h->dcols[j], &cell, true);
        kpi_out_s(h->f, "</td>");
    }
}

/* The notes of department row i (PLACE_NOTE), each in its own line. */
static void put_department_notes(const struct html *h, const struct kpi_report *rep, size_t i)
{
    struct kpi_cell cell;
    for (size_t j = 0; j < h->n_dcols; j++) {
        if (h->dplace[j] != PLACE_NOTE)
            continue;
        get_cell(rep, &h->dcols[j], i, &cell);
        if (cell.type == KPI_CELL_NULL || cell.type == KPI_CELL_ABSENT)
            continue;
        kpi_out_s(h->f, "<div class=\"note\">");
        put_cell(h, h->dcols[j].name, &cell);
        kpi_out_s(h->f, "</div>");
    }
}

/* The link on department i's name: to its section on this page, or to its
 * file under departments/ when the KPIs are not inlined (department_linked
 * says whether there is one). */
static void put_department_link(const struct html *h, size_t i)
{
    const struct kpi_department *d = &h->rep->departments[i];
    struct kpi_cell cell;

    if (h->inline_kpis) {
        kpi_out_s(h->f, "<a href=\"#");
        put_anchor(h->f, d);
    } else {
        for (size_t j = 0; j < h->n_dcols; j++) {
            if (h->dplace[j] != PLACE_FILE)
                continue;
            get_cell(h->rep, &h->dcols[j], i, &cell);
            kpi_out_s(h->f, "<a href=\"");
            put_href_path(h->f, cell.text);
            break;
        }
    }
    kpi_out_s(h->f, "\" title=\"");
    put_attr(h->f, d->path);
    kpi_out_s(h->f, "\">");
}

static bool department_linked(const struct html *h)
{
    if (h->inline_kpis)
        return true;
    for (size_t j = 0; j < h->n_dcols; j++)
        if (h->dplace[j] == PLACE_FILE)
            return h->department_files;
    return false;
}

static void put_overview(struct html *h, const struct kpi_report *whole)
{
    const struct kpi_report *rep = h->rep;
    bool linked = department_linked(h);
    FILE *f = h->f;

    kpi_out_s(f, "<section id=\"overview\">\n<h2>");
    put_word(h, "Overview");
    kpi_out_s(f, "</h2>\n<table class=\"overview\">\n");
    put_head(h, h->dcols, h->n_dcols, h->dplace, whole, 0, 1);
    kpi_out_s(f, "<tbody>\n");
    for (size_t i = 0; i < rep->n_departments; i++) {
        const struct kpi_department *d = &rep->departments[i];
        char depth[16];
        if (d->depth >= h->depth_shown)
            continue;
        snprintf(depth, sizeof depth, "%.1f", 0.6 + 1.3 * d->depth);
        kpi_out_s(f, "<tr><td class=\"dep");
        kpi_out_s(f, d->depth == 0 ? " top\"" : "\"");
        if (d->depth) { /* indented by depth */
            kpi_out_s(f, " style=\"padding-left:");
            kpi_out_s(f, depth);
            kpi_out_s(f, "em\"");
        }
        kpi_out_c(f, '>');
        if (linked)
            put_department_link(h, i);
        else {
            kpi_out_s(f, "<span title=\"");
            put_attr(f, d->path);
            kpi_out_s(f, "\">");
        }
        put_text(f, d->name);
        kpi_out_s(f, linked ? "</a>" : "</span>");
        put_department_notes(h, rep, i);
        kpi_out_s(f, "</td>");
        put_department_figures(h, rep, i);
        kpi_out_s(f, "</tr>\n");
    }
    kpi_out_s(f, "</tbody>\n<tfoot><tr><td class=\"dep\">");
    put_word(h, "Overall");
    put_department_notes(h, whole, 0);
    kpi_out_s(f, "</td>");
    put_department_figures(h, whole, 0);
    kpi_out_s(f, "</tr></tfoot>\n</table>\n<p class=\"legend\">");
    put_word(h, "Bars: achievement from 0 to 125%; the line marks 100%.");
    if (h->departments_shown < rep->n_departments) {
        kpi_out_c(f, ' ');
        put_word(h, "Only the upper levels of the departments are listed; every department is in "
                    "departments.csv.");
        fprintf(f, " (%zu / %zu)", h->departments_shown, rep->n_departments);
    }
    kpi_out_s(f, "</p>\n</section>\n");
}

/* ---- the departments' KPIs ---------------------------------------------- */

/* KPI i: its main row (PLACE_MAIN) and the row of how it was made. */
static void put_kpi(const struct html *h, size_t i)
{
    const struct kpi_report *rep = h->rep;
    const struct kpi_indicator *k = &rep->kpis[i];
    enum kpi_band band = kpi_score_band(&rep->rows[i]);
    struct kpi_cell cell;
    size_t main_columns = 0;
    FILE *f = h->f;

    kpi_out_s(f, "<tbody id=\"kpi-");
    put_attr(f, k->id);
    kpi_out_s(f, "\"><tr>");
    for (size_t j = 0; j < h->n_kcols; j++) {
        const char *name = h->kcols[j].name;
        if (h->kplace[j] != PLACE_MAIN)
            continue;
        main_columns++;
        get_cell(rep, &h->kcols[j], i, &cell);
        if (cell.type == KPI_CELL_ABSENT)
            cell.type = KPI_CELL_NULL;
        if (!strcmp(name, "achievement")) {
            kpi_out_s(f, "<td class=\"n\">");
            if (cell.type == KPI_CELL_RATE)
                put_bar(f, cell.number, band_styles[band].class_name);
            else
                put_cell(h, name, &cell);
        } else if (!strcmp(name, "band") && cell.type == KPI_CELL_WORD) {
            enum kpi_band b = band_named(cell.text);
            kpi_out_s(f, "<td><span class=\"band ");
            kpi_out_s(f, band_styles[b].class_name);
            kpi_out_s(f, "\">");
            kpi_out_s(f, band_styles[b].mark);
            kpi_out_c(f, ' ');
            put_word(h, cell.text);
            kpi_out_s(f, "</span>");
        } else {
            kpi_out_s(f, h->figures[j] ? "<td class=\"n\">" : "<td class=\"");
            if (!h->figures[j]) {
                kpi_out_s(f, name);
                kpi_out_s(f, "\">");
            }
            put_cell(h, name, &cell);
        }
        kpi_out_s(f, "</td>");
    }
    fprintf(f, "</tr>\n<tr class=\"how\"><td colspan=\"%zu\"><dl>", main_columns);
    for (size_t j = 0; j < h->n_kcols; j++) {
        const struct kpi_column *col = &h->kcols[j];
        if (h->kplace[j] != PLACE_DETAIL)
            continue;
        get_cell(rep, col, i, &cell);
        if (cell.type == KPI_CELL_ABSENT || cell.type == KPI_CELL_NULL)
            continue;
        if (cell.type == KPI_CELL_EXTRA) { /* each extra column under its own name */
            for (size_t e = 0; e < rep->n_extra_columns; e++) {
                if (!k->extra[e][0])
                    continue;
                kpi_out_s(f, "<div><dt>");
                put_text(f, rep->extra_columns[e]);
                kpi_out_s(f, "</dt><dd>");
                put_text(f, k->extra[e]);
                kpi_out_s(f, "</dd></div>");
            }
            continue;
        }
        if (cell.type == KPI_CELL_INPUTS && !k->n_inputs && !k->n_deps)
            continue;
        kpi_out_s(f, "<div><dt>");
        put_header(f, rep, col);
        kpi_out_s(f, "</dt><dd>");
        put_cell(h, col->name, &cell);
        kpi_out_s(f, "</dd></div>");
    }
    kpi_out_s(f, "</dl></td></tr></tbody>\n");
}

/* Department i's section: its figures, its own KPIs (those beneath it are
 * in its sub-departments' sections), links to its sub-departments. */
static void put_department(struct html *h, size_t i, size_t first_kpi, size_t end_kpi)
{
    const struct kpi_report *rep = h->rep;
    const struct kpi_department *d = &rep->departments[i];
    bool any_sub = false;
    FILE *f = h->f;

    kpi_out_s(f, "<section class=\"dep\" id=\"");
    put_anchor(f, d);
    kpi_out_s(f, "\">\n<h2>");
    if (d->name > d->path) { /* the levels above, "서울특별시/경제진흥본부/" */
        kpi_out_s(f, "<small>");
        put_text_n(f, d->path, (size_t)(d->name - d->path), true);
        kpi_out_s(f, "</small>");
    }
    put_text(f, d->name);
    kpi_out_s(f, "</h2>\n<dl class=\"summary\">");
    put_department_pairs(h, rep, i, false);
    kpi_out_s(f, "</dl>\n");
    if (first_kpi < end_kpi) {
        kpi_out_s(f, "<table class=\"kpis\">\n");
        put_head(h, h->kcols, h->n_kcols, h->kplace, rep, first_kpi, end_kpi);
        for (size_t k = first_kpi; k < end_kpi; k++)
            put_kpi(h, k);
        kpi_out_s(f, "</table>\n");
    }
    for (size_t c = i + 1; c < rep->n_departments && rep->departments[c].depth > d->depth; c++) {
        const struct kpi_department *child = &rep->departments[c];
        if (child->parent != i)
            continue;
        kpi_out_s(f, any_sub ? " \xC2\xB7 <a href=\"#" : "<p class=\"sub\">");
        if (!any_sub) {
            put_word(h, "Sub-departments");
            kpi_out_s(f, ": <a href=\"#");
        }
        put_anchor(f, child);
        kpi_out_s(f, "\">");
        put_text(f, child->name);
        kpi_out_s(f, "</a>");
        any_sub = true;
    }
    kpi_out_s(f, any_sub ? "</p>\n<p class=\"back\"><a href=\"#overview\">\xE2\x86\x91 "
                         : "<p class=\"back\"><a href=\"#overview\">\xE2\x86\x91 ");
    put_word(h, "Overview");
    kpi_out_s(f, "</a></p>\n</section>\n");
}

static void put_departments(struct html *h)
{
    const struct kpi_report *rep = h->rep;
    size_t k = 0;
    for (size_t d = 0; d < rep->n_departments; d++) {
        size_t first;
        /* KPIs are in tree order: a department's own KPIs are one run. */
        while (k < rep->n_kpis && rep->kpis[k].department_id < d)
            k++;
        first = k;
        while (k < rep->n_kpis && rep->kpis[k].department_id == d)
            k++;
        put_department(h, d, first, k);
    }
}

/* ---- the rest ----------------------------------------------------------- */

static void put_warnings(const struct html *h)
{
    const struct kpi_report *rep = h->rep;
    FILE *f = h->f;
    if (!rep->warnings_total)
        return;
    kpi_out_s(f, "<section id=\"warnings\">\n<h2>");
    put_word(h, "Warnings");
    fprintf(f, " <small>%zu</small></h2>\n<ul class=\"warnings\">\n", rep->warnings_total);
    for (size_t i = 0; i < rep->n_warnings; i++) {
        kpi_out_s(f, "<li>");
        put_text(f, rep->warnings[i]);
        kpi_out_s(f, "</li>\n");
    }
    if (rep->warnings_total > rep->n_warnings)
        fprintf(f, "<li>\xE2\x80\xA6 (%zu / %zu)</li>\n", rep->n_warnings, rep->warnings_total);
    kpi_out_s(f, "</ul>\n</section>\n");
}

/* One line of the provenance's list, "<div class=\"run-NAME\">" first when
 * it tells two runs of the same inputs apart (command, started, finished:
 * tests/batch/same_report.sh sets those lines aside). */
static void put_provenance_line(const struct html *h, const char *name, const char *run_class,
                                const char *value, bool code)
{
    FILE *f = h->f;
    kpi_out_s(f, run_class ? "<div class=\"run-" : "<div>");
    if (run_class) {
        kpi_out_s(f, run_class);
        kpi_out_s(f, "\">");
    }
    kpi_out_s(f, "<dt>");
    put_word(h, name);
    kpi_out_s(f, "</dt><dd>");
    kpi_out_s(f, code ? "<code>" : "");
    if (value)
        put_text(f, value);
    else
        kpi_out_s(f, "<span class=\"na\">\xE2\x80\x93</span>");
    kpi_out_s(f, code ? "</code>" : "");
    kpi_out_s(f, "</dd></div>\n");
}

/* Where the report came from (provenance.h): version, command line and
 * times, each file read with its SHA-256 and rows, the settings. */
static void put_provenance(const struct html *h, const struct kpi_provenance *pv)
{
    static const char *const kinds[KPI_PROVENANCE_KINDS] = {"input", "formula"};
    static const char *const counts[KPI_PROVENANCE_KINDS] = {"rows", "lines"};
    FILE *f = h->f;

    kpi_out_s(f, "<dl id=\"provenance\">\n");
    put_provenance_line(h, "version", NULL, pv->version, false);
    put_provenance_line(h, "command", "command", pv->command, true);
    put_provenance_line(h, "started", "started", *pv->started ? pv->started : NULL, false);
    put_provenance_line(h, "finished", "finished", *pv->finished ? pv->finished : NULL, false);
    for (size_t i = 0; i < pv->n_settings; i++) {
        kpi_out_s(f, "<div><dt>");
        put_text(f, pv->settings[i].name);
        kpi_out_s(f, "</dt><dd>");
        put_text(f, pv->settings[i].value);
        kpi_out_s(f, "</dd></div>\n");
    }
    kpi_out_s(f, "</dl>\n<table class=\"files\">\n<thead><tr><th>");
    put_word(h, "file");
    kpi_out_s(f, "</th><th>SHA-256</th><th class=\"n\">");
    put_word(h, "rows");
    kpi_out_s(f, "</th></tr></thead>\n<tbody>\n");
    for (int k = 0; k < KPI_PROVENANCE_KINDS; k++)
        for (size_t i = 0; i < pv->n_files[k]; i++) {
            const struct kpi_provenance_file *file = &pv->files[k][i];
            kpi_out_s(f, "<tr><td>");
            put_text(f, file->path);
            kpi_out_s(f, " <span class=\"na\">");
            put_word(h, kinds[k]);
            kpi_out_s(f, "</span></td><td><code>");
            kpi_out_s(f, file->sha256);
            kpi_out_s(f, "</code></td><td class=\"n\">");
            kpi_out_u(f, file->rows);
            kpi_out_c(f, ' ');
            put_word(h, counts[k]);
            kpi_out_s(f, "</td></tr>\n");
        }
    kpi_out_s(f, "</tbody>\n</table>\n");
}

static void put_footer(const struct html *h)
{
    const struct kpi_report_params *p = h->rep->params;
    char buf[KPI_NUMBER_BUF];
    FILE *f = h->f;

    kpi_out_s(f, "<footer>\n<h3>");
    put_word(h, "Parameters");
    kpi_out_s(f, "</h3>\n<dl>\n<dt>");
    put_word(h, "dataset");
    kpi_out_s(f, "</dt><dd>");
    put_text(f, p->dataset);
    kpi_out_s(f, "</dd>\n<dt>");
    put_word(h, "period");
    kpi_out_s(f, "</dt><dd>");
    if (p->period)
        put_text(f, p->period);
    else
        kpi_out_s(f, "<span class=\"na\">\xE2\x80\x93</span>");
    kpi_out_s(f, "</dd>\n<dt>");
    put_word(h, "cap");
    kpi_out_s(f, "</dt><dd>");
    kpi_out_s(f, kpi_text_format_number(p->cap, buf));
    kpi_out_s(f, "%</dd>\n<dt>");
    put_word(h, "grades");
    kpi_out_s(f, "</dt><dd>");
    for (size_t i = 0; i < p->grades->n; i++) {
        kpi_out_s(f, i ? ", " : "");
        put_text(f, p->grades->bands[i].name);
        kpi_out_s(f, " \xE2\x89\xA5 "); /* ≥ */
        kpi_out_s(f, kpi_text_format_number(p->grades->bands[i].min, buf));
    }
    kpi_out_s(f, "</dd>\n<dt>");
    put_word(h, "unscored");
    kpi_out_s(f, "</dt><dd>");
    put_word(h, kpi_unscored_name(p->grades->unscored));
    kpi_out_s(f, "</dd>\n<dt>");
    put_word(h, "version");
    kpi_out_s(f, "</dt><dd>kpieval " KPIEVAL_VERSION "</dd>\n</dl>\n<h3>");
    put_word(h, "Provenance");
    kpi_out_s(f, "</h3>\n");
    if (p->provenance)
        put_provenance(h, p->provenance);
    else {
        kpi_out_s(f, "<p id=\"provenance\">");
        put_word(h, "Not recorded.");
        kpi_out_s(f, "</p>\n");
    }
    kpi_out_s(f, "</footer>\n");
}

static void put_top(const struct html *h, const struct kpi_report *whole)
{
    const struct kpi_report_params *p = h->rep->params;
    FILE *f = h->f;

    kpi_out_s(f, "<header class=\"top\">\n<div><p class=\"kicker\">kpieval</p><h1>");
    put_word(h, "KPI evaluation report");
    kpi_out_s(f, "</h1>\n<p class=\"meta\">");
    put_word(h, "dataset");
    kpi_out_s(f, " <b>");
    put_text(f, p->dataset);
    kpi_out_s(f, "</b>");
    if (p->period) {
        kpi_out_s(f, " \xC2\xB7 ");
        put_word(h, "period");
        kpi_out_s(f, " <b>");
        put_text(f, p->period);
        kpi_out_s(f, "</b>");
    }
    kpi_out_s(f, "</p></div>\n<dl class=\"tiles\" id=\"overall\">");
    put_department_pairs(h, whole, 0, true);
    kpi_out_s(f, "</dl>\n</header>\n");
}

/* How deep the overview goes: every level while the departments listed
 * stay within KPI_HTML_DEPARTMENTS_MAX (the top level always). */
static void choose_depth(struct html *h)
{
    const struct kpi_report *rep = h->rep;
    size_t at_depth[KPI_DEPARTMENT_LEVELS_MAX + 1] = {0}, shown = 0;
    unsigned depth = 0;

    for (size_t i = 0; i < rep->n_departments; i++) {
        unsigned d = rep->departments[i].depth;
        at_depth[d < KPI_DEPARTMENT_LEVELS_MAX ? d : KPI_DEPARTMENT_LEVELS_MAX]++;
    }
    while (depth <= KPI_DEPARTMENT_LEVELS_MAX &&
           (depth == 0 || shown + at_depth[depth] <= KPI_HTML_DEPARTMENTS_MAX)) {
        shown += at_depth[depth];
        depth++;
    }
    h->depth_shown = depth;
    h->departments_shown = shown;
}

static bool writes_department_files(const struct kpi_report *rep)
{
    for (size_t i = 0; i < kpi_report_sinks(); i++)
        if (!strcmp(kpi_report_sink(i)->name, "departments/"))
            return !rep->params->reports || (rep->params->reports & (1u << i));
    return false;
}

int kpi_write_report_html(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    struct html h = {.f = kpi_sink_file(state), .rep = rep};
    struct kpi_report whole = *rep;
    FILE *f = h.f;

    (void)err;
    assert(rep->params);
    h.lang = rep->params->lang;
    h.kcols = kpi_columns_kpi(&h.n_kcols);
    h.dcols = kpi_columns_department(&h.n_dcols);
    assert(h.n_kcols <= COLUMNS_MAX && h.n_dcols <= COLUMNS_MAX);
    for (size_t j = 0; j < h.n_kcols; j++)
        h.kplace[j] = place_of(kpi_places, sizeof kpi_places / sizeof kpi_places[0],
                               h.kcols[j].name, PLACE_DETAIL);
    for (size_t j = 0; j < h.n_dcols; j++)
        h.dplace[j] = place_of(department_places,
                               sizeof department_places / sizeof department_places[0],
                               h.dcols[j].name, PLACE_MAIN);
    h.inline_kpis = rep->n_kpis <= KPI_HTML_KPIS_MAX;
    h.department_files = writes_department_files(rep);
    choose_depth(&h);
    if (h.inline_kpis) { /* every department's section is linked */
        h.depth_shown = KPI_DEPARTMENT_LEVELS_MAX + 1;
        h.departments_shown = rep->n_departments;
    }
    /* The overall figures are the department columns over a view whose
     * one department summary is the overall one. */
    whole.summaries = rep->overall;

    kpi_out_s(f, "<!DOCTYPE html>\n<html lang=\"");
    kpi_out_s(f, kpi_lang_name(h.lang));
    kpi_out_s(f, "\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"kpieval " KPIEVAL_VERSION "\">\n<title>");
    put_word(&h, "KPI evaluation report");
    kpi_out_s(f, " \xE2\x80\x94 ");
    put_attr(f, rep->params->dataset);
    if (rep->params->period) {
        kpi_out_s(f, " (");
        put_attr(f, rep->params->period);
        kpi_out_c(f, ')');
    }
    kpi_out_s(f, "</title>\n<style>\n");
    kpi_out_s(f, style_sheet);
    kpi_out_s(f, "</style>\n</head>\n<body>\n");
    put_top(&h, &whole);
    put_overview(&h, &whole);
    put_warnings(&h);
    if (h.inline_kpis) {
        put_departments(&h);
    } else {
        kpi_out_s(f, "<p class=\"legend\">");
        put_word(&h, "Too many KPIs to list on this page: each department's KPIs are in its file "
                     "under departments/ (and every KPI in kpis.csv).");
        fprintf(f, " (%zu > %d)</p>\n", rep->n_kpis, KPI_HTML_KPIS_MAX);
    }
    put_footer(&h);
    kpi_out_s(f, "</body>\n</html>\n");
    return 0;
}
