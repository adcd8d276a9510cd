/*
 * plan.h - the evaluation plan: in which order the KPIs are evaluated and
 * scored, apart from the order of the reports.
 *
 * Provides kpi_plan (opaque; _new/_free): the KPIs of a dataset in levels,
 * every KPI in exactly one level. The run evaluates a level and scores
 * each of its KPIs before it starts the next, so a KPI may read the
 * achievements of any KPI in an earlier level. Today every KPI stands
 * alone: there is one level holding them all, in report order. Composite
 * KPIs (a formula over other KPIs) will put each KPI one level above the
 * highest level of the KPIs it reads, found through kpi_dataset_find().
 * Relies on the dataset model. Memory: the plan owns its index arrays.
 */
#ifndef KPIEVAL_PLAN_H
#define KPIEVAL_PLAN_H

#include <stddef.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"

typedef struct kpi_plan kpi_plan;

/* The plan for ds's KPIs (as kpi_dataset_indicators() lists them, so
 * after any keep_shard). Returns 0 and *out, or KPI_ENOMEM. */
int kpi_plan_new(const kpi_dataset *ds, kpi_plan **out, struct kpi_error *err);
void kpi_plan_free(kpi_plan *plan);

/* Number of levels: 1 for a dataset of independent KPIs, never 0. */
size_t kpi_plan_levels(const kpi_plan *plan);

/* The KPIs of level `level` (0 first; below kpi_plan_levels()), *n of
 * them, as indices into kpi_dataset_indicators(), ascending. Valid until
 * kpi_plan_free(). */
const unsigned *kpi_plan_level(const kpi_plan *plan, size_t level, size_t *n);

#endif
