/* report.json: everything in kpis.csv and departments.csv at full
 * precision, plus the run's parameters, counts and warnings. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "writers.h"

void kpi_json_put_string(FILE *f, const char *s)
{
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                putc(*p, f);
        }
    }
    putc('"', f);
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
        fputs("null", f);
}

/* JSON has no inf or NaN: such a value (never expected) becomes null. */
static void put_number(FILE *f, double x)
{
    char buf[KPI_NUMBER_BUF];
    fputs(isfinite(x) ? kpi_text_format_exact(x, buf) : "null", f);
}

static void put_number_or_null(FILE *f, bool present, double x)
{
    if (present)
        put_number(f, x);
    else
        fputs("null", f);
}

static void put_counts(FILE *f, const struct kpi_department_summary *s)
{
    fprintf(f, "\"kpis\": %u, \"ok\": %u, \"missing\": %u, \"error\": %u, \"invalid\": %u", s->kpis,
            s->count[KPI_STATUS_OK], s->count[KPI_STATUS_MISSING], s->count[KPI_STATUS_ERROR],
            s->count[KPI_STATUS_INVALID]);
}

static const char *const scoring_names[] = {
    [KPI_SCORING_RATIO] = "ratio",   [KPI_SCORING_LINEAR] = "linear",
    [KPI_SCORING_BASELINE] = "baseline", [KPI_SCORING_BINARY] = "binary",
    [KPI_SCORING_EXPRESSION] = "expression",
};

static void put_kpi(FILE *f, const kpi_dataset *ds, const struct kpi_indicator *k,
                    const struct kpi_result *r)
{
    size_t n_extra;
    const char *const *extra = kpi_dataset_extra_columns(ds, &n_extra);

    fputs("    {\"id\": ", f);
    put_string(f, k->id);
    fputs(", \"name\": ", f);
    put_string(f, k->name);
    fputs(", \"department\": ", f);
    put_string(f, k->department);
    fputs(", \"unit\": ", f);
    put_string(f, k->unit);
    fprintf(f, ", \"direction\": \"%s\"",
            k->direction == KPI_DIRECTION_DECREASE ? "decrease" : "increase");
    fputs(", \"baseline\": ", f);
    put_number_or_null(f, k->has_baseline && !k->bad->baseline, k->baseline);
    fputs(", \"target\": ", f);
    put_number_or_null(f, !k->bad->target, k->target);
    fputs(", \"formula\": ", f);
    put_string(f, k->formula);
    fprintf(f, ", \"scoring\": \"%s\"", scoring_names[k->scoring]);
    if (k->scoring == KPI_SCORING_EXPRESSION) {
        fputs(", \"scoring_expression\": ", f);
        put_string(f, k->scoring_text);
    }
    fputs(", \"inputs\": {", f);
    for (unsigned i = 0; i < k->n_inputs; i++) {
        fputs(i ? ", " : "", f);
        put_string(f, k->inputs[i].name);
        fputs(": ", f);
        put_number(f, k->inputs[i].value);
    }
    fputs("}, \"input_lines\": {", f);
    for (unsigned i = 0; i < k->n_inputs; i++) {
        fputs(i ? ", " : "", f);
        put_string(f, k->inputs[i].name);
        fprintf(f, ": %u", k->inputs[i].line);
    }
    fputs("}, \"actual\": ", f);
    put_number_or_null(f, r->has_actual, r->actual);
    fputs(", \"achievement\": ", f);
    put_number_or_null(f, r->status == KPI_STATUS_OK, r->achievement);
    fputs(", \"achievement_capped\": ", f);
    put_number_or_null(f, r->status == KPI_STATUS_OK, r->achievement_capped);
    fputs(", \"weight\": ", f);
    put_number_or_null(f, !k->bad->weight, k->weight);
    if (k->bad->baseline || k->bad->target || k->bad->weight || k->bad->direction) {
        /* Cells that could not be read, as written (the fields above are null). */
        const char *names[] = {"baseline", "target", "weight", "direction"};
        const char *cells[] = {k->bad->baseline, k->bad->target, k->bad->weight, k->bad->direction};
        bool first = true;
        fputs(", \"unreadable\": {", f);
        for (size_t i = 0; i < 4; i++) {
            if (!cells[i])
                continue;
            fprintf(f, "%s\"%s\": ", first ? "" : ", ", names[i]);
            put_string(f, cells[i]);
            first = false;
        }
        fputc('}', f);
    }
    fprintf(f, ", \"status\": \"%s\", \"message\": ", kpi_status_name(r->status));
    put_string_or_null(f, r->message);
    fprintf(f, ", \"line\": %u", k->line);
    if (n_extra) {
        fputs(", \"columns\": {", f);
        for (size_t e = 0; e < n_extra; e++) {
            fputs(e ? ", " : "", f);
            put_string(f, extra[e]);
            fputs(": ", f);
            put_string(f, k->extra[e]);
        }
        fputc('}', f);
    }
    fputc('}', f);
}

void kpi_json_put_overall(FILE *f, const struct kpi_department_summary *overall)
{
    fputs("  \"counts\": {", f);
    put_counts(f, overall);
    fputs("},\n  \"overall\": {\"achievement\": ", f);
    put_number_or_null(f, overall->has_achievement, overall->achievement);
    fputs(", \"grade\": ", f);
    put_string_or_null(f, overall->has_achievement ? overall->grade : NULL);
    fputs("},\n", f);
}

int kpi_write_report_json(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    const struct kpi_report_params *p = rep->params;
    size_t n_kpis, n_deps, n_warn, total_warn;
    const struct kpi_indicator *ks = kpi_dataset_indicators(rep->ds, &n_kpis);
    const struct kpi_department *deps = kpi_dataset_departments(rep->ds, &n_deps);
    const char *const *warnings = kpi_dataset_warnings(rep->ds, &n_warn, &total_warn);
    FILE *f = kpi_output_open(dir, "report.json", err);
    char name[512];

    if (!f)
        return err ? err->code : KPI_EIO;
    fputs("{\n  \"format\": \"kpieval-report\", \"version\": 1,\n  \"parameters\": {\"dataset\": ", f);
    put_string(f, p->dataset);
    fputs(", \"period\": ", f);
    put_string_or_null(f, p->period);
    fputs(", \"cap\": ", f);
    put_number(f, p->cap);
    fputs(", \"grades\": [", f);
    for (size_t i = 0; i < p->grades->n; i++) {
        fputs(i ? ", " : "", f);
        fputs("{\"grade\": ", f);
        put_string(f, p->grades->bands[i].name);
        fputs(", \"min\": ", f);
        put_number(f, p->grades->bands[i].min);
        fputc('}', f);
    }
    fputs("], \"plugin_dirs\": [", f);
    for (size_t i = 0; i < p->n_plugin_dirs; i++) {
        fputs(i ? ", " : "", f);
        put_string(f, p->plugin_dirs[i]);
    }
    fprintf(f, "], \"instruction_limit\": %llu, \"memory_limit\": %zu, \"time_limit\": ",
            (unsigned long long)p->instruction_limit, p->memory_limit);
    put_number(f, p->time_limit);
    fputs("},\n", f);
    if (rep->layout)
        rep->layout->json_head_end = ftell(f);

    kpi_json_put_overall(f, rep->overall);
    fputs("  \"kpis\": [\n", f);
    for (size_t i = 0, b = 0; i < n_kpis; i++) {
        struct kpi_shard_block *bl =
            rep->layout && b < rep->layout->n_blocks ? &rep->layout->blocks[b] : NULL;
        if (bl && i == bl->first_kpi)
            bl->json_kpis[0] = ftell(f);
        put_kpi(f, rep->ds, &ks[i], &rep->rows[i]);
        if (bl && i + 1 == bl->end_kpi) {
            bl->json_kpis[1] = ftell(f);
            b++;
        }
        fputs(i + 1 < n_kpis ? ",\n" : "\n", f);
    }
    fputs("  ],\n  \"departments\": [\n", f);
    for (size_t d = 0, b = 0; d < n_deps; d++) {
        const struct kpi_department_summary *s = &rep->departments[d];
        struct kpi_shard_block *bl =
            rep->layout && b < rep->layout->n_blocks ? &rep->layout->blocks[b] : NULL;
        if (bl && d == bl->first_dep)
            bl->json_departments[0] = ftell(f);
        fputs("    {\"department\": ", f);
        put_string(f, deps[d].path);
        fputs(", \"parent\": ", f);
        put_string_or_null(f, deps[d].parent == KPI_NONE ? NULL : deps[deps[d].parent].path);
        fputs(", ", f);
        put_counts(f, s);
        fputs(", \"weight\": ", f);
        put_number(f, s->weight);
        fputs(", \"achievement\": ", f);
        put_number_or_null(f, s->has_achievement, s->achievement);
        fputs(", \"grade\": ", f);
        put_string_or_null(f, s->has_achievement ? s->grade : NULL);
        kpi_report_department_file(&deps[d], deps[d].number, name, sizeof name);
        fputs(", \"report\": \"departments/", f);
        fputs(name, f); /* only [0-9A-Za-z._-] and UTF-8: nothing to escape */
        fputs("\"}", f);
        if (bl && d + 1 == bl->end_dep) {
            bl->json_departments[1] = ftell(f);
            b++;
        }
        fputs(d + 1 < n_deps ? ",\n" : "\n", f);
    }
    fputs("  ],\n", f);
    if (rep->layout)
        rep->layout->json_tail_start = ftell(f);
    fprintf(f, "  \"warnings_total\": %zu,\n  \"warnings\": [", total_warn);
    for (size_t i = 0; i < n_warn; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        put_string(f, warnings[i]);
    }
    fputs(n_warn ? "\n  ]\n}\n" : "]\n}\n", f);
    return kpi_output_close(f, "report.json", err);
}
