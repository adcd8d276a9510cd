/*
 * rollup.h - department achievements rolled up the department tree, and
 * grades from configurable bands.
 *
 * Provides kpi_rollup(): for every department node, counts per status, the
 * coverage (weight share of scored KPIs) and the weighted mean of
 * achievement_capped over the KPIs in it and beneath it (a mean over KPIs,
 * not over child means), unscored KPIs counted as 0 or left out by policy;
 * plus grade bands.
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
#define KPI_GRADE_NAME_MAX 64 /* bytes with the NUL: 21 Korean syllables */
#define KPI_DEFAULT_GRADES "S:100,A:90,B:80,C:70,D:0"

struct kpi_grade_band {
    char name[KPI_GRADE_NAME_MAX];
    double min; /* lowest achievement that earns this grade */
};

/* How a KPI that could not be scored (missing, error, invalid) counts in
 * its department's achievement. */
enum kpi_unscored {
    KPI_UNSCORED_ZERO, /* at its weight with achievement 0 (the default):
                          not reporting never raises a grade */
    KPI_UNSCORED_SKIP  /* left out: the mean of the scored KPIs only */
};

/* The grading rules: bands from highest minimum to lowest, and the policy
 * for unscored KPIs. */
struct kpi_grades {
    struct kpi_grade_band bands[KPI_GRADES_MAX];
    size_t n;
    enum kpi_unscored unscored;
};

/* Parses "NAME:MIN,NAME:MIN,..." (any order; sorted on return) into the
 * bands, leaving grades->unscored as it is (start from a zeroed struct:
 * its 0 is KPI_UNSCORED_ZERO, the default). A name is 1 to
 * KPI_GRADE_NAME_MAX - 1 bytes of UTF-8 ("우수"), without ',', ':',
 * control characters or spaces at either end. Returns 0 or KPI_EUSAGE with
 * err filled and err->setting KPI_SETTING_GRADES. */
int kpi_grades_parse(const char *spec, struct kpi_grades *grades, struct kpi_error *err);

/* "zero" or "skip" into *policy; else KPI_EUSAGE, err->setting
 * KPI_SETTING_UNSCORED. */
int kpi_unscored_parse(const char *name, enum kpi_unscored *policy, struct kpi_error *err);
const char *kpi_unscored_name(enum kpi_unscored policy);

/* The grade of an achievement: the first band whose minimum it reaches, or
 * "" when it is below every band. */
const char *kpi_grade_for(const struct kpi_grades *grades, double achievement);

struct kpi_department_summary {
    unsigned kpis;                      /* KPIs in the department and beneath */
    unsigned count[KPI_STATUS_COUNT];   /* by status */
    double weight;                      /* total weight of the ok KPIs */
    double weighted;                    /* sum of weight x achievement_capped */
    double unscored_weight;             /* total weight of the other KPIs */
    bool has_coverage;                  /* false when every weight is 0 */
    double coverage;                    /* weight / (weight + unscored_weight), 0..1 */
    bool has_achievement;               /* false when the denominator is 0 */
    double achievement;                 /* weighted / weight (skip) or
                                           weighted / (weight + unscored_weight) (zero) */
    const char *grade;                  /* "" without an achievement */
};

/* The weight an unscored KPI counts at: its own, or 1 (the default
 * weight) when its weight cell could not be read or is out of range. */
double kpi_rollup_unscored_weight(const struct kpi_indicator *k);

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

/* Sets coverage, achievement and grade from the totals (kpis, counts,
 * weight, weighted, unscored_weight) of s, under grades->unscored. */
void kpi_rollup_finish(struct kpi_department_summary *s, const struct kpi_grades *grades);

#endif
