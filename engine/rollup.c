#include "kpieval/rollup.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kpieval/score.h"
#include "text.h"

static int compare_bands(const void *a, const void *b)
{
    const struct kpi_grade_band *x = a, *y = b;
    return x->min > y->min ? -1 : x->min < y->min;
}

static int parse_bands(const char *spec, struct kpi_grades *grades, struct kpi_error *err)
{
    const char *p = spec;

    grades->n = 0;
    if (!*spec)
        return kpi_error_set(err, KPI_EUSAGE, "empty; expected e.g. '%s'", KPI_DEFAULT_GRADES);
    while (*p) {
        const char *colon = strchr(p, ':');
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        struct kpi_grade_band *band;
        char number[64];
        size_t name_len;

        if (!colon || colon > end)
            return kpi_error_set(err, KPI_EUSAGE, "'%.*s' is not NAME:MIN", (int)(end - p), p);
        name_len = (size_t)(colon - p);
        if (name_len == 0 || name_len >= KPI_GRADE_NAME_MAX)
            return kpi_error_set(err, KPI_EUSAGE, "grade name '%.*s' must be 1 to %d characters",
                                 (int)name_len, p, KPI_GRADE_NAME_MAX - 1);
        for (const char *c = p; c < colon; c++) {
            if (*c <= ' ' || *c > '~')
                return kpi_error_set(err, KPI_EUSAGE,
                                     "grade name '%.*s' must be printable ASCII "
                                     "without spaces",
                                     (int)name_len, p);
        }
        if (grades->n == KPI_GRADES_MAX)
            return kpi_error_set(err, KPI_EUSAGE, "more than %d bands", KPI_GRADES_MAX);
        if ((size_t)(end - colon - 1) >= sizeof number)
            return kpi_error_set(err, KPI_EUSAGE, "minimum of '%.*s' is too long", (int)name_len,
                                 p);
        memcpy(number, colon + 1, (size_t)(end - colon - 1));
        number[end - colon - 1] = '\0';
        band = &grades->bands[grades->n];
        if (kpi_text_parse_number(number, &band->min) != KPI_NUMBER_OK)
            return kpi_error_set(
                err, KPI_EUSAGE, "minimum '%s' of '%.*s' %s", number, (int)name_len, p,
                kpi_text_number_problem(kpi_text_parse_number(number, &band->min)));
        memcpy(band->name, p, name_len);
        band->name[name_len] = '\0';
        for (size_t i = 0; i < grades->n; i++) {
            if (!strcmp(grades->bands[i].name, band->name))
                return kpi_error_set(err, KPI_EUSAGE, "grade '%s' given twice", band->name);
        }
        grades->n++;
        p = comma ? comma + 1 : end;
        if (comma && !*p)
            return kpi_error_set(err, KPI_EUSAGE, "trailing ','");
    }
    qsort(grades->bands, grades->n, sizeof grades->bands[0], compare_bands);
    return 0;
}

int kpi_grades_parse(const char *spec, struct kpi_grades *grades, struct kpi_error *err)
{
    return kpi_error_setting(err, parse_bands(spec, grades, err), KPI_SETTING_GRADES);
}

const char *kpi_grade_for(const struct kpi_grades *grades, double achievement)
{
    for (size_t i = 0; i < grades->n; i++) {
        if (achievement >= grades->bands[i].min)
            return grades->bands[i].name;
    }
    return "";
}

static void add_kpi(struct kpi_department_summary *s, const struct kpi_indicator *k,
                    const struct kpi_result *r)
{
    s->kpis++;
    s->count[r->status]++;
    if (r->status == KPI_STATUS_OK) {
        /* Both bounded (dataset.c, score.c), so the sums cannot overflow. */
        assert(k->weight >= 0 && k->weight <= KPI_WEIGHT_MAX);
        assert(fabs(r->achievement_capped) <= KPI_ACHIEVEMENT_MAX);
        s->weight += k->weight;
        s->weighted += k->weight * r->achievement_capped;
    }
}

void kpi_rollup_finish(struct kpi_department_summary *s, const struct kpi_grades *grades)
{
    /* The bounds keep both sums finite; isfinite() stays as a last guard
     * for totals read from a shard manifest (checked there too). */
    s->has_achievement = s->weight > 0 && isfinite(s->weighted / s->weight);
    s->achievement = s->has_achievement ? s->weighted / s->weight : 0;
    s->grade = s->has_achievement ? kpi_grade_for(grades, s->achievement) : "";
}

/* Adds a finished child's totals into its parent. */
static void add_summary(struct kpi_department_summary *to, const struct kpi_department_summary *s)
{
    to->kpis += s->kpis;
    for (int k = 0; k < KPI_STATUS_COUNT; k++)
        to->count[k] += s->count[k];
    to->weight += s->weight;
    to->weighted += s->weighted;
}

void kpi_rollup(const kpi_dataset *ds, const struct kpi_result *rows,
                const struct kpi_grades *grades, struct kpi_department_summary *out,
                struct kpi_department_summary *overall)
{
    size_t n_kpis, n_deps;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_kpis);
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n_deps);

    kpi_rollup_rows(ks, rows, n_kpis, deps, n_deps, grades, out, overall);
}

void kpi_rollup_rows(const struct kpi_indicator *ks, const struct kpi_result *rows,
                     size_t n_kpis, const struct kpi_department *deps, size_t n_deps,
                     const struct kpi_grades *grades, struct kpi_department_summary *out,
                     struct kpi_department_summary *overall)
{
    /* Sums are taken in one fixed order, so the figures do not depend on
     * the order of input rows and a shard's totals merge exactly: first a
     * department's own KPIs in report order, then each child's total, the
     * children in tree order; the overall figure is the sum of the
     * top-level departments in tree order. */
    memset(overall, 0, sizeof *overall);
    memset(out, 0, n_deps * sizeof *out);
    for (size_t i = 0; i < n_kpis; i++)
        add_kpi(&out[ks[i].department_id], &ks[i], &rows[i]);
    /* Children come after their parent in tree order: walking backwards
     * finishes every child before it is added to its parent. Siblings must
     * be added first to last, so collect each parent's children in order. */
    for (size_t d = n_deps; d-- > 0;) {
        for (size_t c = d + 1; c < n_deps && deps[c].depth > deps[d].depth; c++)
            if (deps[c].parent == d)
                add_summary(&out[d], &out[c]);
        kpi_rollup_finish(&out[d], grades);
    }
    for (size_t d = 0; d < n_deps; d++)
        if (deps[d].parent == KPI_NONE)
            add_summary(overall, &out[d]);
    kpi_rollup_finish(overall, grades);
}
