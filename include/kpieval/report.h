/*
 * report.h - the report writers and the safe way their files reach disk.
 *
 * Provides struct kpi_report (a read-only view of one scored, rolled-up run)
 * and kpi_report_write(): every writer in the writers table writes into a
 * staging folder beside the output folder, files are flushed, and the
 * staging folder is swapped in with one rename, so readers see the old
 * complete report or the new complete one. Relies on the dataset,
 * evaluation and roll-up stages. Memory: borrows everything it is given.
 */
#ifndef KPIEVAL_REPORT_H
#define KPIEVAL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"
#include "kpieval/evaluate.h"
#include "kpieval/rollup.h"

/* The parameters a report records about its run. */
struct kpi_report_params {
    const char *dataset;
    const char *period;            /* NULL without periods */
    double cap;
    const struct kpi_grades *grades;
    const char *const *plugin_dirs; /* in shadowing order */
    size_t n_plugin_dirs;
    uint64_t instruction_limit;
    size_t memory_limit;
    double time_limit;             /* seconds */
};

struct kpi_report {
    const kpi_dataset *ds;
    const struct kpi_result *rows;                    /* one per indicator */
    const struct kpi_department_summary *departments; /* one per department node */
    const struct kpi_department_summary *overall;
    const struct kpi_report_params *params;
};

/* One output format: writes its file(s) under dir. */
struct kpi_writer {
    const char *name; /* what it writes, e.g. "kpis.csv" or "departments/" */
    int (*write)(const struct kpi_report *rep, const char *dir, struct kpi_error *err);
};

/* The writers, in the order they run. */
const struct kpi_writer *kpi_report_writers(size_t *n);

/* Fails with KPI_EUSAGE when out_dir exists and is not a kpieval report
 * folder (no report.json) nor empty: kpieval never replaces other files.
 * Call before any work so a refused run writes nothing. */
int kpi_report_check_target(const char *out_dir, struct kpi_error *err);

/* Writes every report to a staging folder beside out_dir, then swaps it in.
 * On failure nothing of the new report is left and out_dir is as before. */
int kpi_report_write(const struct kpi_report *rep, const char *out_dir, struct kpi_error *err);

/* File name of department node i's report under departments/, e.g.
 * "003-경제정책과.csv"; safe on any file system whatever the name. */
void kpi_report_department_file(const struct kpi_department *d, size_t i, char *buf, size_t size);

#endif
