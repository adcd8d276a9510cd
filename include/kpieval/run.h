/*
 * run.h - the pipeline: load CSV -> model -> evaluate formulas -> score ->
 * roll up -> writers.
 *
 * Provides kpi_run_execute(), the only place that knows every stage, and
 * struct kpi_run (caller-owned: _init/_release) holding what a run made so
 * the command can print a summary. Relies on every other public header.
 */
#ifndef KPIEVAL_RUN_H
#define KPIEVAL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"
#include "kpieval/evaluate.h"
#include "kpieval/rules.h"
#include "kpieval/report.h"
#include "kpieval/rollup.h"

/* The stages, for progress displays and logs. */
enum kpi_phase { KPI_PHASE_LOAD, KPI_PHASE_EVALUATE, KPI_PHASE_SCORE, KPI_PHASE_ROLLUP,
                 KPI_PHASE_WRITE, KPI_PHASE_COUNT };

const char *kpi_phase_name(enum kpi_phase phase);

/* Told when each stage starts and ends, and how evaluation progresses.
 * Every member may be NULL. */
struct kpi_run_observer {
    void *ctx;
    void (*phase_start)(void *ctx, enum kpi_phase phase);
    void (*phase_end)(void *ctx, enum kpi_phase phase, double seconds, size_t items);
    void (*progress)(void *ctx, size_t done, size_t total);
};

struct kpi_run_options {
    const char *dataset;              /* dataset folder */
    const char *out;                  /* report folder; NULL: evaluate only */
    const char *period;               /* NULL: the file's only period */
    enum kpi_encoding encoding;       /* of the dataset's CSV files; 0: UTF-8 */
    double cap;                       /* achievement cap, e.g. 120 */
    struct kpi_grades grades;
    const char *stdlib_dir;           /* the standard formulas folder; NULL: none. When
                                         set it must be a folder, or the run stops */
    const char *stdlib_missing;       /* not NULL: the caller looked for the standard
                                         formulas and did not find them; this says where.
                                         The run stops at once with it (KPI_EPLUGIN) */
    const char *const *formula_dirs;  /* --formulas, in order */
    size_t n_formula_dirs;
    uint64_t instruction_limit;       /* 0: default */
    size_t memory_limit;              /* 0: default */
    double time_limit;                /* seconds; 0: default */
    unsigned jobs;                    /* worker processes; 0: one per CPU */
    bool in_process;                  /* no workers (debugging) */
    bool wait;                        /* wait for the output folder's lock */
    bool has_max_errors;              /* more than max_errors KPIs in error: KPI_ELIMIT */
    size_t max_errors;
    unsigned shard_index, shard_count; /* 1..count of count; 0 of 0: no sharding */
    unsigned reports;                 /* kpi_report_select() mask; 0: every report */
    enum kpi_lang lang;               /* of the reports people read */
    bool csv_bom;                     /* CSVs with a UTF-8 byte order mark */
    const struct kpi_run_observer *observer; /* may be NULL */
    struct kpi_provenance *provenance; /* may be NULL. Else the caller sets its version
                                          and command (and settings of its own); the run
                                          adds the times, every file it reads and the
                                          settings it knows, and the report carries it */
};

struct kpi_run {
    kpi_dataset *ds;
    kpi_rules *rules;      /* rules.csv's; NULL before load */
    kpi_results *results;
    struct kpi_department_summary *departments; /* one per department node */
    struct kpi_department_summary overall;
};

void kpi_run_init(struct kpi_run *run);
void kpi_run_release(struct kpi_run *run);

/* Runs the whole pipeline and, when opt->out is set, writes the reports.
 * Returns 0 (KPI failures are in run->results, not errors), or a negative
 * KPI_E* when the inputs, plugins or output folder are unusable; then no
 * report was written and any earlier one is untouched. KPI_ELIMIT (too
 * many KPIs in error) leaves run filled in, so the failures can be shown,
 * and writes nothing either. */
int kpi_run_execute(const struct kpi_run_options *opt, struct kpi_run *run, struct kpi_error *err);

#endif
