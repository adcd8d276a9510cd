/* report.json: everything in kpis.csv and departments.csv at full
 * precision, plus the run's parameters, counts and warnings. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kpieval/columns.h"
#include "text.h"
#include "words.h"
#include "writers.h"

/* Control characters are escaped: C0 as JSON requires, DEL and C1 too, so
 * that report.json and --log json are safe to print. A byte that is not
 * valid UTF-8 becomes U+FFFD, as JSON text must be UTF-8. */
void kpi_json_put_string(FILE *f, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *span = p;
    const unsigned char *end = p + strlen(s);

    kpi_out_c(f, '"');
    /* Runs of bytes that need no escape go out whole. */
    for (;; p++) {
        size_t n = 0;
        if (*p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\')
            continue;
        if (*p >= 0x80) {
            n = kpi_text_utf8_char((const char *)p, (size_t)(end - p));
            if (n && !(*p == 0xC2 && p[1] < 0xA0)) {
                p += n - 1;
                continue;
            }
        }
        kpi_out_n(f, (const char *)span, (size_t)(p - span));
        if (p == end)
            break;
        if (*p >= 0x80 && !n) {
            kpi_out_s(f, "\\ufffd");
        } else if (*p >= 0x80) { /* C1: U+0080..U+009F is C2 80..C2 9F */
            char u[7] = {'\\', 'u', '0', '0', hex[p[1] >> 4], hex[p[1] & 15], '\0'};
            kpi_out_s(f, u);
            p++;
        } else {
            switch (*p) {
            case '"': kpi_out_s(f, "\\\""); break;
            case '\\': kpi_out_s(f, "\\\\"); break;
            case '\n': kpi_out_s(f, "\\n"); break;
            case '\r': kpi_out_s(f, "\\r"); break;
            case '\t': kpi_out_s(f, "\\t"); break;
            default: {
                char u[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], '\0'};
                kpi_out_s(f, u);
            }
            }
        }
        span = p + 1;
    }
    kpi_out_c(f, '"');
}

static void put_string(FILE *f, const char *s)
{
    kpi_json_put_string(f, s);
}

static void put_string_or_null(FILE *f, const char *s)
{
    if (s)
        put_string(f, s);
    else
        kpi_out_s(f, "null");
}

/* JSON has no inf or NaN: such a value (never expected) becomes null. */
static void put_number(FILE *f, double x)
{
    char buf[KPI_NUMBER_BUF];
    kpi_out_s(f, isfinite(x) ? kpi_text_format_exact(x, buf) : "null");
}

static void put_number_or_null(FILE *f, bool present, double x)
{
    if (present)
        put_number(f, x);
    else
        kpi_out_s(f, "null");
}

static void put_counts(FILE *f, const struct kpi_department_summary *s)
{
    kpi_out_s(f, "\"kpis\": ");
    kpi_out_u(f, s->kpis);
    for (int st = 0; st < KPI_STATUS_COUNT; st++) {
        kpi_out_s(f, ", \"");
        kpi_out_s(f, kpi_status_name((enum kpi_status)st));
        kpi_out_s(f, "\": ");
        kpi_out_u(f, s->count[st]);
    }
}

/* An object of name: value pairs, for the cells that are one. */
static void put_object_start(FILE *f, bool first, const char *name)
{
    kpi_out_s(f, first ? "" : ", ");
    put_string(f, name);
    kpi_out_s(f, ": ");
}

static void put_kpi_object(FILE *f, const struct kpi_report *rep, const struct kpi_cell *c)
{
    const struct kpi_indicator *k = c->kpi;

    kpi_out_c(f, '{');
    if (c->type == KPI_CELL_INPUTS || c->type == KPI_CELL_LINES) {
        for (unsigned i = 0; i < k->n_inputs; i++) {
            put_object_start(f, i == 0, k->inputs[i].name);
            if (c->type == KPI_CELL_INPUTS)
                put_number(f, k->inputs[i].value);
            else if (kpi_input_is_filled(&k->inputs[i]))
                kpi_out_s(f, "null"); /* no row: if_missing zero filled it */
            else
                kpi_out_u(f, k->inputs[i].line);
        }
    } else if (c->type == KPI_CELL_CELLS) {
        /* Cells that could not be read, as written (their fields are null). */
        bool first = true;
        for (size_t i = 0; i < KPI_UNREADABLE_CELLS; i++) {
            const char *name, *cell = kpi_column_unreadable(k, i, &name);
            if (!cell)
                continue;
            put_object_start(f, first, name);
            put_string(f, cell);
            first = false;
        }
    } else { /* KPI_CELL_EXTRA */
        for (size_t e = 0; e < rep->n_extra_columns; e++) {
            put_object_start(f, e == 0, rep->extra_columns[e]);
            put_string(f, k->extra[e]);
        }
    }
    kpi_out_c(f, '}');
}

/* One cell as a JSON value (columns.h says what each type is). */
static void put_cell(FILE *f, const struct kpi_report *rep, const struct kpi_cell *c)
{
    if (c->as_written) { /* unreadable: null here, as written in "unreadable" */
        kpi_out_s(f, "null");
        return;
    }
    switch (c->type) {
    case KPI_CELL_TEXT: put_string(f, c->text); break;
    case KPI_CELL_WORD:
        kpi_out_c(f, '"');
        kpi_out_s(f, c->text);
        kpi_out_c(f, '"');
        break;
    case KPI_CELL_NUMBER:
    case KPI_CELL_MEASURE:
    case KPI_CELL_RATE: put_number(f, c->number); break;
    case KPI_CELL_COUNT: kpi_out_u(f, c->count); break;
    case KPI_CELL_INPUTS:
    case KPI_CELL_LINES:
    case KPI_CELL_CELLS:
    case KPI_CELL_EXTRA: put_kpi_object(f, rep, c); break;
    case KPI_CELL_DEPENDS:
        kpi_out_c(f, '[');
        for (unsigned j = 0; j < c->kpi->n_deps; j++) {
            kpi_out_s(f, j ? ", " : "");
            put_string(f, c->kpi->deps[j]);
        }
        kpi_out_c(f, ']');
        break;
    case KPI_CELL_FILLED:
        kpi_out_c(f, '[');
        for (unsigned i = 0, n = 0; i < c->kpi->n_inputs; i++) {
            if (!kpi_input_is_filled(&c->kpi->inputs[i]))
                continue;
            kpi_out_s(f, n++ ? ", " : "");
            put_string(f, c->kpi->inputs[i].name);
        }
        kpi_out_c(f, ']');
        break;
    default: kpi_out_s(f, "null"); break;
    }
}

/* Row i of the report as one object, a pair per JSON column. */
static void put_row(FILE *f, const struct kpi_report *rep, size_t i,
                    const struct kpi_column *cols, size_t n)
{
    struct kpi_cell cell;
    bool first = true;

    kpi_out_s(f, "    {");
    for (size_t j = 0; j < n; j++) {
        if (!(cols[j].formats & KPI_COL_JSON))
            continue;
        cell.as_written = NULL;
        cols[j].get(rep, i, cols[j].arg, &cell);
        if (cell.type == KPI_CELL_ABSENT)
            continue;
        kpi_out_s(f, first ? "\"" : ", \"");
        kpi_out_s(f, cols[j].name);
        kpi_out_s(f, "\": ");
        put_cell(f, rep, &cell);
        first = false;
    }
    kpi_out_c(f, '}');
}

static void put_overall(FILE *f, const struct kpi_department_summary *overall)
{
    kpi_out_s(f, "  \"counts\": {");
    put_counts(f, overall);
    kpi_out_s(f, "},\n  \"overall\": {\"coverage\": ");
    put_number_or_null(f, overall->has_coverage, overall->coverage * 100);
    kpi_out_s(f, ", \"achievement\": ");
    put_number_or_null(f, overall->has_achievement, overall->achievement);
    kpi_out_s(f, ", \"grade\": ");
    put_string_or_null(f, overall->has_achievement ? overall->grade : NULL);
    kpi_out_s(f, "},\n");
}

/* "provenance": where the report came from (provenance.h), a member per
 * line so that a test may set aside the lines that differ between runs
 * (command, started, finished). */
static void put_provenance(FILE *f, const struct kpi_provenance *pv)
{
    static const char *const kinds[KPI_PROVENANCE_KINDS] = {"inputs", "formulas"};
    static const char *const counts[KPI_PROVENANCE_KINDS] = {"rows", "lines"};

    kpi_out_s(f, "  \"provenance\": {\n    \"kpieval\": ");
    put_string_or_null(f, pv->version);
    kpi_out_s(f, ",\n    \"command\": ");
    put_string_or_null(f, pv->command);
    kpi_out_s(f, ",\n    \"started\": ");
    put_string_or_null(f, *pv->started ? pv->started : NULL);
    kpi_out_s(f, ",\n    \"finished\": ");
    put_string_or_null(f, *pv->finished ? pv->finished : NULL);
    for (int k = 0; k < KPI_PROVENANCE_KINDS; k++) {
        kpi_out_s(f, ",\n    ");
        put_string(f, kinds[k]);
        kpi_out_s(f, ": [");
        for (size_t i = 0; i < pv->n_files[k]; i++) {
            const struct kpi_provenance_file *file = &pv->files[k][i];
            kpi_out_s(f, i ? ",\n      {\"path\": " : "\n      {\"path\": ");
            put_string(f, file->path);
            kpi_out_s(f, ", \"sha256\": \"");
            kpi_out_s(f, file->sha256);
            kpi_out_s(f, "\", \"");
            kpi_out_s(f, counts[k]);
            fprintf(f, "\": %llu}", (unsigned long long)file->rows);
        }
        kpi_out_s(f, pv->n_files[k] ? "\n    ]" : "]");
    }
    kpi_out_s(f, ",\n    \"settings\": {");
    for (size_t i = 0; i < pv->n_settings; i++) {
        put_object_start(f, i == 0, pv->settings[i].name);
        put_string(f, pv->settings[i].value);
    }
    kpi_out_s(f, "}\n  },\n");
}

int kpi_write_report_json(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    const struct kpi_report_params *p = rep->params;
    size_t n_kpis = rep->n_kpis, n_deps = rep->n_departments;
    size_t n_kcols, n_dcols;
    const struct kpi_column *kcols = kpi_columns_kpi(&n_kcols);
    const struct kpi_column *dcols = kpi_columns_department(&n_dcols);
    FILE *f = kpi_sink_file(state);

    (void)err;
    kpi_out_s(f, "{\n  \"format\": \"kpieval-report\", \"version\": 1,\n  \"parameters\": {\"dataset\": ");
    put_string(f, p->dataset);
    kpi_out_s(f, ", \"period\": ");
    put_string_or_null(f, p->period);
    kpi_out_s(f, ", \"cap\": ");
    put_number(f, p->cap);
    kpi_out_s(f, ", \"grades\": [");
    for (size_t i = 0; i < p->grades->n; i++) {
        kpi_out_s(f, i ? ", " : "");
        kpi_out_s(f, "{\"grade\": ");
        put_string(f, p->grades->bands[i].name);
        kpi_out_s(f, ", \"min\": ");
        put_number(f, p->grades->bands[i].min);
        kpi_out_c(f, '}');
    }
    kpi_out_s(f, "], \"unscored\": \"");
    kpi_out_s(f, kpi_unscored_name(p->grades->unscored));
    kpi_out_s(f, "\", \"lang\": \"");
    kpi_out_s(f, kpi_lang_name(p->lang));
    kpi_out_s(f, "\", \"plugin_dirs\": [");
    for (size_t i = 0; i < p->n_plugin_dirs; i++) {
        kpi_out_s(f, i ? ", " : "");
        put_string(f, p->plugin_dirs[i]);
    }
    fprintf(f, "], \"instruction_limit\": %llu, \"memory_limit\": %zu, \"time_limit\": ",
            (unsigned long long)p->instruction_limit, p->memory_limit);
    put_number(f, p->time_limit);
    kpi_out_s(f, "},\n");
    if (p->provenance)
        put_provenance(f, p->provenance);

    put_overall(f, rep->overall);
    kpi_out_s(f, "  \"kpis\": [\n");
    for (size_t i = 0; i < n_kpis; i++) {
        put_row(f, rep, i, kcols, n_kcols);
        kpi_out_s(f, i + 1 < n_kpis ? ",\n" : "\n");
    }
    kpi_out_s(f, "  ],\n  \"departments\": [\n");
    for (size_t d = 0; d < n_deps; d++) {
        put_row(f, rep, d, dcols, n_dcols);
        kpi_out_s(f, d + 1 < n_deps ? ",\n" : "\n");
    }
    kpi_out_s(f, "  ],\n");
    fprintf(f, "  \"warnings_total\": %zu,\n  \"warnings\": [", rep->warnings_total);
    for (size_t i = 0; i < rep->n_warnings; i++) {
        kpi_out_s(f, i ? ",\n    " : "\n    ");
        put_string(f, rep->warnings[i]);
    }
    kpi_out_s(f, rep->n_warnings ? "\n  ]\n}\n" : "]\n}\n");
    return 0;
}
