/*
 * plan.h - the evaluation plan: in which order the KPIs are evaluated and
 * scored, apart from the order of the reports.
 *
 * Provides kpi_plan (opaque; _new/_free): the KPIs of a dataset in levels,
 * every KPI in exactly one level. The run evaluates a level and scores
 * each of its KPIs before it starts the next, so a KPI may read the
 * results of any KPI in an earlier level. A composite KPI (a formula that
 * reads other KPIs with kpi_value(), kpi_indicator.deps) is one level
 * above the highest level of the KPIs it reads, found through
 * kpi_dataset_find(); every other KPI is in level 0, in report order, so a
 * dataset without composites is one level. An invalid KPI reads nothing:
 * the builder made every KPI of a dependency cycle invalid, so the levels
 * are those of a graph without cycles (Kahn's algorithm, linear in KPIs
 * and dependencies). Relies on the dataset model. Memory: the plan owns
 * its index arrays.
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
