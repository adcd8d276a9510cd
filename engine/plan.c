#include "kpieval/plan.h"

#include <assert.h>
#include <stdlib.h>

/* Levels are runs of one array: level l is kpis[start[l] .. start[l + 1]). */
struct kpi_plan {
    unsigned *kpis;
    size_t *start;
    size_t n_levels;
};

int kpi_plan_new(const kpi_dataset *ds, kpi_plan **out, struct kpi_error *err)
{
    size_t n;
    kpi_plan *plan = calloc(1, sizeof *plan);

    *out = NULL;
    kpi_dataset_indicators(ds, &n);
    if (plan) {
        plan->kpis = malloc((n ? n : 1) * sizeof *plan->kpis);
        plan->start = malloc(2 * sizeof *plan->start);
    }
    if (!plan || !plan->kpis || !plan->start) {
        kpi_plan_free(plan);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    /* No KPI reads another yet: one level, in report order. */
    for (size_t i = 0; i < n; i++)
        plan->kpis[i] = (unsigned)i;
    plan->start[0] = 0;
    plan->start[1] = n;
    plan->n_levels = 1;
    *out = plan;
    return 0;
}

void kpi_plan_free(kpi_plan *plan)
{
    if (!plan)
        return;
    free(plan->kpis);
    free(plan->start);
    free(plan);
}

size_t kpi_plan_levels(const kpi_plan *plan)
{
    return plan->n_levels;
}

const unsigned *kpi_plan_level(const kpi_plan *plan, size_t level, size_t *n)
{
    assert(level < plan->n_levels);
    *n = plan->start[level + 1] - plan->start[level];
    return plan->kpis + plan->start[level];
}
