#include "kpieval/plan.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

/* Levels are runs of one array: level l is kpis[start[l] .. start[l + 1]). */
struct kpi_plan {
    unsigned *kpis;
    size_t *start;
    size_t n_levels;
};

/* The index of a KPI's dependency: one of this dataset (a shard keeps a
 * KPI with the KPIs it reads, dataset.h), else false. */
static bool dependency_at(const kpi_dataset *ds, const struct kpi_indicator *base, const char *id,
                          unsigned *index)
{
    const struct kpi_indicator *d = kpi_dataset_find(ds, id);
    if (!d)
        return false;
    *index = (unsigned)(d - base);
    return true;
}

/* Kahn's algorithm: level[i] is one above the highest level of the KPIs
 * KPI i reads, 0 when it reads none. An invalid KPI reads nothing (it is
 * not evaluated): that is what breaks the cycles the builder found, each
 * of whose KPIs it made invalid. Returns the number of levels, or 0 when
 * out of memory. O(KPIs + dependencies). */
static size_t assign_levels(const kpi_dataset *ds, unsigned *level)
{
    size_t n, n_edges = 0, head = 0, tail = 0, levels = 1;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    unsigned *waiting = calloc(n, sizeof *waiting); /* dependencies not yet placed */
    unsigned *first =
        calloc(n + 1, sizeof *first); /* readers of j: readers[first[j]..first[j+1]) */
    unsigned *queue = malloc(n * sizeof *queue), *readers = NULL, j;

    if (!waiting || !first || !queue)
        goto out;
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; !ks[i].invalid && d < ks[i].n_deps; d++)
            if (dependency_at(ds, ks, ks[i].deps[d], &j)) {
                first[j + 1]++;
                waiting[i]++;
                n_edges++;
            }
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    if (!(readers = malloc((n_edges ? n_edges : 1) * sizeof *readers)))
        goto out;
    for (size_t i = 0; i < n; i++) /* first[j] moves to the end of j's run ... */
        for (unsigned d = 0; !ks[i].invalid && d < ks[i].n_deps; d++)
            if (dependency_at(ds, ks, ks[i].deps[d], &j))
                readers[first[j]++] = (unsigned)i;
    for (size_t i = n; i > 0; i--) /* ... and back */
        first[i] = first[i - 1];
    first[0] = 0;

    for (size_t i = 0; i < n; i++) {
        level[i] = 0;
        if (!waiting[i])
            queue[tail++] = (unsigned)i;
    }
    while (head < tail) {
        unsigned v = queue[head++];
        if (level[v] + 1u > levels)
            levels = level[v] + 1u;
        for (unsigned e = first[v]; e < first[v + 1]; e++) {
            unsigned r = readers[e];
            if (level[r] < level[v] + 1)
                level[r] = level[v] + 1;
            if (--waiting[r] == 0)
                queue[tail++] = r;
        }
    }
    /* A cycle left among valid KPIs (a dataset the builder did not check)
     * is evaluated last rather than lost; its reads fail at run time. */
    assert(tail == n);
    if (tail < n) {
        for (size_t i = 0; i < n; i++)
            if (waiting[i])
                level[i] = (unsigned)levels;
        levels++;
    }
out:
    if (!readers)
        levels = 0;
    free(waiting);
    free(first);
    free(readers);
    free(queue);
    return levels;
}

int kpi_plan_new(const kpi_dataset *ds, kpi_plan **out, struct kpi_error *err)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    kpi_plan *plan = calloc(1, sizeof *plan);
    unsigned *level = NULL;
    bool composite = false;

    *out = NULL;
    for (size_t i = 0; i < n && !composite; i++)
        composite = ks[i].n_deps && !ks[i].invalid;
    if (plan) {
        plan->kpis = malloc((n ? n : 1) * sizeof *plan->kpis);
        plan->n_levels = 1;
        if (composite && (level = malloc(n * sizeof *level)))
            plan->n_levels = assign_levels(ds, level);
        if (plan->n_levels)
            plan->start = calloc(plan->n_levels + 1, sizeof *plan->start);
    }
    if (!plan || !plan->kpis || !plan->start || (composite && !level)) {
        free(level);
        kpi_plan_free(plan);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    if (!composite) {
        /* No KPI reads another: one level, in report order. */
        for (size_t i = 0; i < n; i++)
            plan->kpis[i] = (unsigned)i;
        plan->start[1] = n;
    } else {
        /* A counting sort by level, stable: report order within a level. */
        for (size_t i = 0; i < n; i++)
            plan->start[level[i] + 1]++;
        for (size_t l = 0; l < plan->n_levels; l++)
            plan->start[l + 1] += plan->start[l];
        size_t *fill = plan->start; /* each level's next place, moved back below */
        for (size_t i = 0; i < n; i++)
            plan->kpis[fill[level[i]]++] = (unsigned)i;
        for (size_t l = plan->n_levels; l > 0; l--)
            plan->start[l] = plan->start[l - 1];
        plan->start[0] = 0;
    }
    free(level);
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
