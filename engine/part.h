/*
 * part.h - a partial report's model as `kpieval merge` reads it back.
 *
 * Provides struct part (one part's parameters, department nodes, KPIs and
 * results, in the part's own order) and kpi_part_read/_release; the writing
 * side is the shard.txt sink (writers.h). Relies on the report view's row
 * types and the arena. Memory: texts and small arrays live in the arena
 * given to kpi_part_read; the row arrays and the provenance are the
 * part's, freed by kpi_part_release.
 */
#ifndef KPIEVAL_PART_H
#define KPIEVAL_PART_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kpieval/report.h"

struct part {
    const char *dir;
    unsigned index, count, reports;
    uint64_t run;
    size_t departments_total;
    struct kpi_report_params params;
    struct kpi_grades grades;
    const char **plugin_dirs, **columns, **warnings;
    size_t n_plugin_dirs, n_columns, n_warnings, warnings_total;
    struct kpi_department *deps;
    size_t n_deps, cap_deps;
    struct kpi_indicator *kpis;
    struct kpi_result *rows;
    size_t n_kpis, cap_kpis;
    struct kpi_input *filling; /* the inputs of the last KPI, being read */
    const char **reading;      /* the KPIs the last KPI reads, being read */
    struct kpi_provenance provenance; /* the part's own (kpi_part_release frees it) */
    bool has_provenance;
};

/* Reads DIR/shard.txt of p->dir into p: 0, or KPI_EINPUT naming the file
 * and what is wrong (not a part, changed since its run wrote it, values no
 * run makes), or KPI_ENOMEM. */
int kpi_part_read(struct part *p, struct kpi_arena *a, struct kpi_error *err);
void kpi_part_release(struct part *p);

#endif
