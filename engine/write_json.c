/* report.json: everything in kpis.csv and departments.csv at full
 * precision, plus the run's parameters, counts and warnings. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
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
    kpi_out_s(f, ", \"ok\": ");
    kpi_out_u(f, s->count[KPI_STATUS_OK]);
    kpi_out_s(f, ", \"missing\": ");
    kpi_out_u(f, s->count[KPI_STATUS_MISSING]);
    kpi_out_s(f, ", \"error\": ");
    kpi_out_u(f, s->count[KPI_STATUS_ERROR]);
    kpi_out_s(f, ", \"invalid\": ");
    kpi_out_u(f, s->count[KPI_STATUS_INVALID]);
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

    kpi_out_s(f, "    {\"id\": ");
    put_string(f, k->id);
    kpi_out_s(f, ", \"name\": ");
    put_string(f, k->name);
    kpi_out_s(f, ", \"department\": ");
    put_string(f, k->department);
    kpi_out_s(f, ", \"unit\": ");
    put_string(f, k->unit);
    kpi_out_s(f, k->direction == KPI_DIRECTION_DECREASE ? ", \"direction\": \"decrease\""
                                                      : ", \"direction\": \"increase\"");
    kpi_out_s(f, ", \"baseline\": ");
    put_number_or_null(f, k->has_baseline && !k->bad->baseline, k->baseline);
    kpi_out_s(f, ", \"target\": ");
    put_number_or_null(f, !k->bad->target, k->target);
    kpi_out_s(f, ", \"formula\": ");
    put_string(f, k->formula);
    kpi_out_s(f, ", \"scoring\": \"");
    kpi_out_s(f, scoring_names[k->scoring]);
    kpi_out_c(f, '"');
    if (k->scoring == KPI_SCORING_EXPRESSION) {
        kpi_out_s(f, ", \"scoring_expression\": ");
        put_string(f, k->scoring_text);
    }
    kpi_out_s(f, ", \"inputs\": {");
    for (unsigned i = 0; i < k->n_inputs; i++) {
        kpi_out_s(f, i ? ", " : "");
        put_string(f, k->inputs[i].name);
        kpi_out_s(f, ": ");
        put_number(f, k->inputs[i].value);
    }
    kpi_out_s(f, "}, \"input_lines\": {");
    for (unsigned i = 0; i < k->n_inputs; i++) {
        kpi_out_s(f, i ? ", " : "");
        put_string(f, k->inputs[i].name);
        kpi_out_s(f, ": ");
        kpi_out_u(f, k->inputs[i].line);
    }
    kpi_out_s(f, "}, \"actual\": ");
    put_number_or_null(f, r->has_actual, r->actual);
    kpi_out_s(f, ", \"achievement\": ");
    put_number_or_null(f, r->status == KPI_STATUS_OK, r->achievement);
    kpi_out_s(f, ", \"achievement_capped\": ");
    put_number_or_null(f, r->status == KPI_STATUS_OK, r->achievement_capped);
    kpi_out_s(f, ", \"weight\": ");
    put_number_or_null(f, !k->bad->weight, k->weight);
    if (k->bad->baseline || k->bad->target || k->bad->weight || k->bad->direction) {
        /* Cells that could not be read, as written (the fields above are null). */
        const char *names[] = {"baseline", "target", "weight", "direction"};
        const char *cells[] = {k->bad->baseline, k->bad->target, k->bad->weight, k->bad->direction};
        bool first = true;
        kpi_out_s(f, ", \"unreadable\": {");
        for (size_t i = 0; i < 4; i++) {
            if (!cells[i])
                continue;
            fprintf(f, "%s\"%s\": ", first ? "" : ", ", names[i]);
            put_string(f, cells[i]);
            first = false;
        }
        kpi_out_c(f, '}');
    }
    kpi_out_s(f, ", \"status\": \"");
    kpi_out_s(f, kpi_status_name(r->status));
    kpi_out_s(f, "\", \"message\": ");
    put_string_or_null(f, r->message);
    kpi_out_s(f, ", \"line\": ");
    kpi_out_u(f, k->line);
    if (n_extra) {
        kpi_out_s(f, ", \"columns\": {");
        for (size_t e = 0; e < n_extra; e++) {
            kpi_out_s(f, e ? ", " : "");
            put_string(f, extra[e]);
            kpi_out_s(f, ": ");
            put_string(f, k->extra[e]);
        }
        kpi_out_c(f, '}');
    }
    kpi_out_c(f, '}');
}

void kpi_json_put_overall(FILE *f, const struct kpi_department_summary *overall)
{
    kpi_out_s(f, "  \"counts\": {");
    put_counts(f, overall);
    kpi_out_s(f, "},\n  \"overall\": {\"achievement\": ");
    put_number_or_null(f, overall->has_achievement, overall->achievement);
    kpi_out_s(f, ", \"grade\": ");
    put_string_or_null(f, overall->has_achievement ? overall->grade : NULL);
    kpi_out_s(f, "},\n");
}

int kpi_write_report_json(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    const struct kpi_report_params *p = rep->params;
    size_t n_kpis, n_deps, n_warn, total_warn;
    const struct kpi_indicator *ks = kpi_dataset_indicators(rep->ds, &n_kpis);
    const struct kpi_department *deps = kpi_dataset_departments(rep->ds, &n_deps);
    const char *const *warnings = kpi_dataset_warnings(rep->ds, &n_warn, &total_warn);
    FILE *f = kpi_output_open(dir, "report.json", err);
    char name[sizeof "departments/" + 512];

    if (!f)
        return err ? err->code : KPI_EIO;
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
    kpi_out_s(f, "], \"plugin_dirs\": [");
    for (size_t i = 0; i < p->n_plugin_dirs; i++) {
        kpi_out_s(f, i ? ", " : "");
        put_string(f, p->plugin_dirs[i]);
    }
    fprintf(f, "], \"instruction_limit\": %llu, \"memory_limit\": %zu, \"time_limit\": ",
            (unsigned long long)p->instruction_limit, p->memory_limit);
    put_number(f, p->time_limit);
    kpi_out_s(f, "},\n");
    if (rep->layout)
        rep->layout->json_head_end = ftell(f);

    kpi_json_put_overall(f, rep->overall);
    kpi_out_s(f, "  \"kpis\": [\n");
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
        kpi_out_s(f, i + 1 < n_kpis ? ",\n" : "\n");
    }
    kpi_out_s(f, "  ],\n  \"departments\": [\n");
    for (size_t d = 0, b = 0; d < n_deps; d++) {
        const struct kpi_department_summary *s = &rep->departments[d];
        struct kpi_shard_block *bl =
            rep->layout && b < rep->layout->n_blocks ? &rep->layout->blocks[b] : NULL;
        if (bl && d == bl->first_dep)
            bl->json_departments[0] = ftell(f);
        kpi_out_s(f, "    {\"department\": ");
        put_string(f, deps[d].path);
        kpi_out_s(f, ", \"parent\": ");
        put_string_or_null(f, deps[d].parent == KPI_NONE ? NULL : deps[deps[d].parent].path);
        kpi_out_s(f, ", ");
        put_counts(f, s);
        kpi_out_s(f, ", \"weight\": ");
        put_number(f, s->weight);
        kpi_out_s(f, ", \"achievement\": ");
        put_number_or_null(f, s->has_achievement, s->achievement);
        kpi_out_s(f, ", \"grade\": ");
        put_string_or_null(f, s->has_achievement ? s->grade : NULL);
        memcpy(name, "departments/", sizeof "departments/");
        kpi_report_department_file(&deps[d], deps[d].number, name + sizeof "departments/" - 1,
                                   sizeof name - (sizeof "departments/" - 1));
        kpi_out_s(f, ", \"report\": ");
        put_string(f, name);
        kpi_out_c(f, '}');
        if (bl && d + 1 == bl->end_dep) {
            bl->json_departments[1] = ftell(f);
            b++;
        }
        kpi_out_s(f, d + 1 < n_deps ? ",\n" : "\n");
    }
    kpi_out_s(f, "  ],\n");
    if (rep->layout)
        rep->layout->json_tail_start = ftell(f);
    fprintf(f, "  \"warnings_total\": %zu,\n  \"warnings\": [", total_warn);
    for (size_t i = 0; i < n_warn; i++) {
        kpi_out_s(f, i ? ",\n    " : "\n    ");
        put_string(f, warnings[i]);
    }
    kpi_out_s(f, n_warn ? "\n  ]\n}\n" : "]\n}\n");
    return kpi_output_close(f, "report.json", err);
}
