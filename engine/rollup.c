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
            return kpi_error_set(err, KPI_EUSAGE, "grade name '%.*s' must be 1 to %d bytes",
                                 (int)name_len, p, KPI_GRADE_NAME_MAX - 1);
        if (p[0] == ' ' || colon[-1] == ' ')
            return kpi_error_set(err, KPI_EUSAGE, "grade name '%.*s' has a space at either end",
                                 (int)name_len, p);
        for (const unsigned char *c = (const unsigned char *)p; c < (const unsigned char *)colon;
             c++) {
            if (*c < ' ' || *c == 0x7f)
                return kpi_error_set(err, KPI_EUSAGE,
                                     "grade name '%.*s' has a control character",
                                     (int)name_len, p);
        }
        if (kpi_text_utf8_invalid_at(p, name_len) < name_len)
            return kpi_error_set(err, KPI_EUSAGE, "grade name '%.*s' is not valid UTF-8",
                                 (int)name_len, p);
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

static const char *const unscored_names[] = {
    [KPI_UNSCORED_ZERO] = "zero",
    [KPI_UNSCORED_SKIP] = "skip",
};

int kpi_unscored_parse(const char *name, enum kpi_unscored *policy, struct kpi_error *err)
{
    for (size_t i = 0; i < sizeof unscored_names / sizeof unscored_names[0]; i++) {
        if (!strcmp(name, unscored_names[i])) {
            *policy = (enum kpi_unscored)i;
            return 0;
        }
    }
    return kpi_error_setting(
        err, kpi_error_set(err, KPI_EUSAGE, "'%s' is not 'zero' or 'skip'", name),
        KPI_SETTING_UNSCORED);
}

const char *kpi_unscored_name(enum kpi_unscored policy)
{
    assert((size_t)policy < sizeof unscored_names / sizeof unscored_names[0]);
    return unscored_names[policy];
}

const char *kpi_grade_for(const struct kpi_grades *grades, double achievement)
{
    for (size_t i = 0; i < grades->n; i++) {
        if (achievement >= grades->bands[i].min)
            return grades->bands[i].name;
    }
    return "";
}

double kpi_rollup_unscored_weight(const struct kpi_indicator *k)
{
    if (k->bad->weight || !(k->weight >= 0 && k->weight <= KPI_WEIGHT_MAX))
        return 1;
    return k->weight;
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
    } else {
        s->unscored_weight += kpi_rollup_unscored_weight(k);
    }
}

void kpi_rollup_finish(struct kpi_department_summary *s, const struct kpi_grades *grades)
{
    double all = s->weight + s->unscored_weight;
    double denominator = grades->unscored == KPI_UNSCORED_SKIP ? s->weight : all;

    s->has_coverage = all > 0 && isfinite(all);
    s->coverage = s->has_coverage ? s->weight / all : 0;
    /* The bounds keep the sums finite; isfinite() stays as a last guard
     * for totals read from a shard manifest (checked there too). */
    s->has_achievement = denominator > 0 && isfinite(s->weighted / denominator);
    s->achievement = s->has_achievement ? s->weighted / denominator : 0;
    /* Graded on the figure as printed: a department shown at 90.00 has
     * reached a band from 90, whatever lies past the second decimal. */
    s->grade = s->has_achievement ? kpi_grade_for(grades, kpi_score_as_printed(s->achievement))
                                  : "";
}

/* Adds a finished child's totals into its parent. */
static void add_summary(struct kpi_department_summary *to, const struct kpi_department_summary *s)
{
    to->kpis += s->kpis;
    for (int k = 0; k < KPI_STATUS_COUNT; k++)
        to->count[k] += s->count[k];
    to->weight += s->weight;
    to->weighted += s->weighted;
    to->unscored_weight += s->unscored_weight;
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
