/*
 * worker.h - evaluation in supervised worker processes: a crashed or stuck
 * worker costs the one KPI it was evaluating, never the run.
 *
 * Provides kpi_workers (opaque; _new/_free): result rows in memory shared
 * with the workers, and kpi_workers_run(), which forks workers that each
 * reuse one sandbox, hand KPIs out in chunks, kill a worker whose KPI
 * overruns its time limit, record a crash against the KPI in flight, and
 * start a new worker. Workers run confined (resource limits, no file
 * descriptors, a seccomp filter). Relies on formula.h and POSIX.
 * Memory: rows and their messages stay valid until kpi_workers_free().
 */
#ifndef KPIEVAL_WORKER_H
#define KPIEVAL_WORKER_H

#include <stddef.h>

#include "formula.h"
#include "kpieval/dataset.h"
#include "kpieval/result.h"

typedef struct kpi_workers kpi_workers;

/* Maps shared memory for n_kpis result rows and `jobs` workers. */
int kpi_workers_new(size_t n_kpis, unsigned jobs, kpi_workers **out, struct kpi_error *err);
void kpi_workers_free(kpi_workers *w);

/* The result rows, one per KPI: the supervisor's own copy, validated
 * after kpi_workers_run() (workers hand back numbers and flags through
 * shared memory, never a pointer). */
struct kpi_result *kpi_workers_rows(kpi_workers *w);

/* Evaluates the KPIs kpis[0..n_kpis) of ds (indices into
 * kpi_dataset_indicators(), each below the count of kpi_workers_new())
 * and writes their rows, reporting to progress, when not NULL, every few
 * milliseconds. Workers are forked for each call, so they see every row
 * written before it. fe: validated by the caller; each worker inherits a
 * copy. seconds: the CPU-time limit of one evaluation, after which a
 * worker stuck in a library call is killed. Fails only when workers
 * cannot be started at all. */
int kpi_workers_run(kpi_workers *w, const kpi_dataset *ds, kpi_formulas *fe,
                    const unsigned *kpis, size_t n_kpis, double seconds,
                    const struct kpi_progress *progress, struct kpi_error *err);

/* kpi_formulas_check_plugins() in a confined child process, each plugin
 * bounded by the time limit even inside a C call: marks in fe each broken
 * plugin. A plugin that hangs or crashes the child is marked broken, and
 * a new child checks the plugins after it, so no plugin's status is lost.
 * Returns 0, or KPI_ENOMEM / KPI_EIO when plugins could not be checked. */
int kpi_workers_check_plugins(kpi_formulas *fe, double seconds, struct kpi_error *err);

#endif
