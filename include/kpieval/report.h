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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"
#include "kpieval/evaluate.h"
#include "kpieval/outdir.h"
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
    unsigned shard_index, shard_count; /* 0 of 0: a whole report */
    unsigned reports;              /* bit i: writer i; 0: every report */
    unsigned threads;              /* reports written at once; 0: one */
};

/* Where a partial report's pieces are, for `kpieval merge` (shard.txt):
 * one block per top-level department, with byte ranges [start, end) of
 * its rows in each file, filled in by the writers as they go. */
struct kpi_shard_block {
    size_t first_dep, end_dep;  /* its nodes, in kpi_dataset_departments() */
    size_t first_kpi, end_kpi;  /* its KPIs, in kpi_dataset_indicators() */
    long kpis_csv[2], departments_csv[2], json_kpis[2], json_departments[2];
};

struct kpi_shard_layout {
    struct kpi_shard_block *blocks;
    size_t n_blocks;
    long json_head_end;   /* report.json up to here is the same in every part */
    long json_tail_start; /* and from here on */
};

struct kpi_report {
    const kpi_dataset *ds;
    const struct kpi_result *rows;                    /* one per indicator */
    const struct kpi_department_summary *departments; /* one per department node */
    const struct kpi_department_summary *overall;
    const struct kpi_report_params *params;
    struct kpi_shard_layout *layout; /* partial reports only, else NULL */
};

/* One output format: writes its file(s) under dir. */
struct kpi_writer {
    const char *name; /* what it writes, e.g. "kpis.csv" or "departments/" */
    int (*write)(const struct kpi_report *rep, const char *dir, struct kpi_error *err);
    bool optional;    /* --reports can leave it out */
};

/* Parses --reports "kpis.csv,departments.csv" into a mask of writer
 * indices for kpi_report_params.reports. */
int kpi_report_select(const char *list, unsigned *mask, struct kpi_error *err);

/* The writers, in the order they run. */
const struct kpi_writer *kpi_report_writers(size_t *n);

/* Writes every report to a staging folder beside out_dir, then swaps it in.
 * On failure nothing of the new report is left and out_dir is as before. */
int kpi_report_write(const struct kpi_report *rep, const char *out_dir, struct kpi_error *err);

/* File name of department node i's report under departments/, e.g.
 * "003-경제정책과.csv"; safe on any file system whatever the name. */
void kpi_report_department_file(const struct kpi_department *d, size_t i, char *buf, size_t size);

/* The blocks of a partial report, one per top-level department of ds
 * (engine/shard.c). Returns 0, or -1 out of memory; free(layout->blocks). */
int kpi_shard_layout_build(const kpi_dataset *ds, struct kpi_shard_layout *layout);

/* `kpieval merge`: combines the partial reports in dirs (every shard of
 * one `run --shard I/N`, in any order) into out, byte-identical to the
 * report of one whole run; *overall gets the merged totals and *grades the
 * run's grade bands (overall->grade points into it). Locks out. */
int kpi_report_merge(const char *out, const char *const *dirs, size_t n_dirs,
                     struct kpi_grades *grades, struct kpi_department_summary *overall,
                     struct kpi_error *err);

#define KPI_SHARDS_MAX 100000

#endif
