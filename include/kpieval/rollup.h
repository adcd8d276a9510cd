/*
 * rollup.h - department achievements rolled up the department tree, and
 * grades from configurable bands.
 *
 * Provides kpi_rollup(): for every department node, counts per status and
 * the weighted mean of achievement_capped over the ok KPIs in it and beneath
 * it (a mean over KPIs, not over child means); plus grade bands.
 * Relies on the dataset model and scored results. No allocation.
 */
#ifndef KPIEVAL_ROLLUP_H
#define KPIEVAL_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"
#include "kpieval/evaluate.h"

#define KPI_GRADES_MAX 16
#define KPI_GRADE_NAME_MAX 16
#define KPI_DEFAULT_GRADES "S:100,A:90,B:80,C:70,D:0"

struct kpi_grade_band {
    char name[KPI_GRADE_NAME_MAX];
    double min; /* lowest achievement that earns this grade */
};

/* Bands from highest minimum to lowest. */
struct kpi_grades {
    struct kpi_grade_band bands[KPI_GRADES_MAX];
    size_t n;
};

/* Parses "NAME:MIN,NAME:MIN,..." (any order; sorted on return). Names are
 * 1-15 printable ASCII characters other than ',' and ':'. Returns 0 or
 * KPI_EUSAGE with err filled and err->setting KPI_SETTING_GRADES. */
int kpi_grades_parse(const char *spec, struct kpi_grades *grades, struct kpi_error *err);

/* The grade of an achievement: the first band whose minimum it reaches, or
 * "" when it is below every band. */
const char *kpi_grade_for(const struct kpi_grades *grades, double achievement);

struct kpi_department_summary {
    unsigned kpis;                      /* KPIs in the department and beneath */
    unsigned count[KPI_STATUS_COUNT];   /* by status */
    double weight;                      /* total weight of the ok KPIs */
    double weighted;                    /* sum of weight x achievement_capped */
    bool has_achievement;               /* false with no ok KPI or weight 0 */
    double achievement;                 /* weighted mean of achievement_capped */
    const char *grade;                  /* "" without an achievement */
};

/* Fills out[i] for every department node i, and *overall for all KPIs. */
void kpi_rollup(const kpi_dataset *ds, const struct kpi_result *rows,
                const struct kpi_grades *grades, struct kpi_department_summary *out,
                struct kpi_department_summary *overall);

/* The same over rows that are not a dataset's (a merge's): KPIs in report
 * order with their department_id, departments in tree order. */
void kpi_rollup_rows(const struct kpi_indicator *ks, const struct kpi_result *rows,
                     size_t n_kpis, const struct kpi_department *deps, size_t n_deps,
                     const struct kpi_grades *grades, struct kpi_department_summary *out,
                     struct kpi_department_summary *overall);

/* Sets achievement and grade from the totals (kpis, counts, weight,
 * weighted) of s. */
void kpi_rollup_finish(struct kpi_department_summary *s, const struct kpi_grades *grades);

#endif
