/*
 * evaluate.h - runs every KPI's measurement formula and hands back results.
 *
 * Provides kpi_evaluate_begin/_kpis/_end (and kpi_evaluate(), all three at
 * once), the one entry point to formula evaluation (the sandboxed Lua
 * behind it is an implementation detail, so it can move into worker
 * processes), and struct kpi_result, one plain row per KPI.
 * Relies on the dataset model. Memory: kpi_results owns its rows and their
 * messages; kpi_results_free() releases them.
 */
#ifndef KPIEVAL_EVALUATE_H
#define KPIEVAL_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"
#include "kpieval/provenance.h"
#include "kpieval/result.h"
#include "kpieval/rules.h"

struct kpi_eval_options {
    const char *const *plugin_dirs;   /* a later folder shadows an earlier one */
    size_t n_plugin_dirs;
    uint64_t instruction_limit;       /* 0: KPI_DEFAULT_INSTRUCTIONS */
    size_t memory_limit;              /* 0: KPI_DEFAULT_MEMORY */
    double time_limit;                /* seconds; 0: KPI_DEFAULT_SECONDS */
    unsigned jobs;                    /* worker processes; 0: kpi_cpus_available() */
    bool in_process;                  /* evaluate here, without workers (debugging) */
    const struct kpi_progress *progress; /* may be NULL */
    struct kpi_provenance *provenance;   /* may be NULL; else each plugin file read is
                                            added to it, with its SHA-256 and lines */
    const kpi_rules *rules;           /* validation rules, run with each KPI; may be NULL */
};

typedef struct kpi_results kpi_results;

/* CPUs this process may use (affinity mask and cgroup CPU quota): the
 * default number of workers. */
unsigned kpi_cpus_available(void);

/* Prepares the evaluation of ds's KPIs with the plugins of
 * opt->plugin_dirs (folders that do not exist are skipped; opt is copied,
 * what it points to must outlive *out): reads and checks the plugins and
 * makes a row per KPI, none evaluated yet. A plugin file that fails to
 * load costs only the KPIs that call it (kpi_results_warnings()). Fails
 * when a plugin folder cannot be read (KPI_EPLUGIN), plugins cannot be
 * checked, or out of memory; then *out is NULL. */
int kpi_evaluate_begin(const kpi_dataset *ds, const struct kpi_eval_options *opt,
                       kpi_results **out, struct kpi_error *err);

/* Evaluates the KPIs kpis[0..n) (indices into kpi_dataset_indicators(),
 * each at most once over all calls: a level of the plan, plan.h) and
 * fills in their rows; rows of earlier calls are not touched, and workers
 * started for this call see them. A KPI's failure is recorded in its row,
 * never returned; the call fails only when workers cannot be started or
 * out of memory. Progress is told over every KPI of the dataset. */
int kpi_evaluate_kpis(kpi_results *res, const unsigned *kpis, size_t n, struct kpi_error *err);

/* Releases the plugins and sandbox; the rows stay until kpi_results_free()
 * (which also does this, so a failed run needs no _end). */
void kpi_evaluate_end(kpi_results *res);

/* Begin, every KPI in report order, end: for callers without a plan. */
int kpi_evaluate(const kpi_dataset *ds, const struct kpi_eval_options *opt, kpi_results **out,
                 struct kpi_error *err);

/* The evaluation's own warnings, for the run's: one per plugin file that
 * failed to load ("PATH:LINE: ... (the plugin failed to load; KPIs that
 * call it are in error)"), in the order the files were read. Valid until
 * kpi_results_free(). */
const char *const *kpi_results_warnings(const kpi_results *res, size_t *n);

/* Rows in the order of kpi_dataset_indicators(). Writable so that the
 * scoring stage can fill in achievements. */
struct kpi_result *kpi_results_rows(kpi_results *res, size_t *n);

void kpi_results_free(kpi_results *res);

#endif
