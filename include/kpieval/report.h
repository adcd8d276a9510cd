/*
 * report.h - the reports of a run: a read-only view of it, the sinks that
 * write it, partial reports and their merge.
 *
 * Provides struct kpi_report (the view), the sinks table and
 * kpi_report_write(): every sink writes into a staging folder beside the
 * output folder, which is then swapped in whole (outdir.h), so readers see
 * the old complete report or the new complete one. Relies on the dataset,
 * evaluation and roll-up stages. Memory: borrows everything it is given.
 */
#ifndef KPIEVAL_REPORT_H
#define KPIEVAL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"
#include "kpieval/evaluate.h"
#include "kpieval/outdir.h"
#include "kpieval/provenance.h"
#include "kpieval/rollup.h"

/* The language of the reports people read (CSV headers and kpieval's own
 * words, HTML, Excel); report.json, for machines, stays English. */
enum kpi_lang { KPI_LANG_EN, KPI_LANG_KO };
#define KPI_LANG_COUNT 2

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
    unsigned reports;              /* bit i: sink i; 0: every report */
    unsigned threads;              /* reports written at once; 0: one */
    enum kpi_lang lang;
    bool csv_bom;                  /* CSVs start with a UTF-8 byte order mark */
    const struct kpi_provenance *provenance; /* where the report came from; may be NULL */
};

/* The read-only view of one scored, rolled-up run that every sink reads:
 * plain rows in report order, so that a sink never needs the dataset they
 * came from (a merge builds the view from the parts' models). */
struct kpi_report {
    const struct kpi_indicator *kpis;           /* report order */
    const struct kpi_result *rows;              /* one per KPI */
    size_t n_kpis;
    const struct kpi_department *departments;   /* tree order */
    const struct kpi_department_summary *summaries; /* one per department */
    size_t n_departments;
    size_t departments_total;                   /* nodes of the whole tree */
    const struct kpi_department_summary *overall;
    const char *const *extra_columns;           /* of indicators.csv */
    size_t n_extra_columns;
    const char *const *warnings;
    size_t n_warnings, warnings_total;
    const struct kpi_report_params *params;
    /* The row of the KPI with this id in the view, or SIZE_MAX: how a sink
     * finds the KPIs a composite KPI reads (kpi_indicator.deps), whose
     * values the reports show beside its inputs. Called with find_ctx in
     * reach through rep; NULL finds nothing. */
    size_t (*find)(const struct kpi_report *rep, const char *id);
    const void *find_ctx;
};

/* The view of a run over dataset ds (which find looks ids up in). */
void kpi_report_init(struct kpi_report *rep, const kpi_dataset *ds,
                     const struct kpi_result *rows,
                     const struct kpi_department_summary *summaries,
                     const struct kpi_department_summary *overall,
                     const struct kpi_report_params *params);

/* One report a run writes: a row of the sinks table. The output folder's
 * transaction (outdir.h) is below it: every selected sink is prepared in
 * the staging folder, then written (sinks in parallel, each by one
 * thread), then committed; if any step of any sink fails, every prepared
 * sink is aborted and the staging folder discarded. */
enum {
    KPI_SINK_OPTIONAL = 1, /* --reports can leave it out */
    KPI_SINK_PART = 2,     /* written only in a partial report (--shard) */
    /* Above KPI_SINK_DEFAULT_KPIS_MAX KPIs, and in a partial report
     * (whose merge writes it anyway), written only when --reports names
     * it: a report that costs more than the run itself at scale. */
    KPI_SINK_ON_REQUEST_ABOVE = 4
};
/* report.xlsx costs 20 to 50 us of CPU per KPI (zlib in libxlsxwriter,
 * docs/reports.md), several times the rest of a run: up to 20,000 KPIs
 * that is a second at most, which any run can afford by default. */
#define KPI_SINK_DEFAULT_KPIS_MAX 20000
struct kpi_sink {
    const char *name; /* what it writes, e.g. "kpis.csv" or "departments/" */
    unsigned flags;   /* KPI_SINK_* */
    /* Makes its place under dir (a file opened, a folder made); *state is
     * the sink's own, handed to the other three. */
    int (*prepare)(const struct kpi_sink *self, const struct kpi_report *rep, const char *dir,
                   void **state, struct kpi_error *err);
    int (*write)(const struct kpi_report *rep, void *state, struct kpi_error *err);
    /* Makes what was written final (every error of the file checked). */
    int (*commit)(void *state, struct kpi_error *err);
    /* Lets go of state after a failure anywhere; the folder is discarded. */
    void (*abort)(void *state);
};

/* The sinks, in the order they are prepared and committed: the built-in
 * ones, then those added with kpi_report_add_sink(). */
const struct kpi_sink *kpi_report_sink(size_t i);
size_t kpi_report_sinks(void);

/* Adds a sink after the built-in ones, for every later run and merge in
 * this process (tests, embedders). Not thread-safe: call before any run.
 * The sink must outlive its use. Fails with KPI_ELIMIT when the table is
 * full (KPI_SINKS_MAX in all). */
#define KPI_SINKS_MAX 16
int kpi_report_add_sink(const struct kpi_sink *sink, struct kpi_error *err);

/* A sink that writes one file, dir/NAME (NAME the sink's name): its
 * prepare, commit and abort. Its write gets the buffered file from
 * kpi_sink_file(state); one thread writes it, so the unlocked stdio calls
 * do. */
int kpi_sink_file_prepare(const struct kpi_sink *self, const struct kpi_report *rep,
                          const char *dir, void **state, struct kpi_error *err);
int kpi_sink_file_commit(void *state, struct kpi_error *err);
void kpi_sink_file_abort(void *state);
FILE *kpi_sink_file(void *state);

/* Parses a list of reports, "kpis.csv,departments.csv", into a mask of
 * sink indices for kpi_report_params.reports; an unknown name is refused
 * with the list of the names there are (KPI_EUSAGE, err->setting
 * KPI_SETTING_REPORTS). */
int kpi_report_select(const char *list, unsigned *mask, struct kpi_error *err);

/* Writes every report to a staging folder beside out_dir, then swaps it in.
 * On failure nothing of the new report is left and out_dir is as before. */
int kpi_report_write(const struct kpi_report *rep, const char *out_dir, struct kpi_error *err);

/* File name of department node i's report under departments/, e.g.
 * "003-경제정책과.csv"; safe on any file system whatever the name. */
void kpi_report_department_file(const struct kpi_department *d, size_t i, char *buf, size_t size);

/* `kpieval merge`: combines the partial reports in dirs (every shard of
 * one `run --shard I/N`, in any order) into out, byte-identical to the
 * report of one whole run but for the provenance; *overall gets the merged
 * totals and *grades the run's grade bands (overall->grade points into
 * it). Locks out. prov, when not NULL, holds the merge's own version and
 * command; the merge adds the parts' files and settings (parts that differ
 * in them are refused), the earliest start among the parts and its own
 * finish, and the report carries it. NULL: the report has no provenance. */
int kpi_report_merge(const char *out, const char *const *dirs, size_t n_dirs,
                     struct kpi_provenance *prov, struct kpi_grades *grades,
                     struct kpi_department_summary *overall, struct kpi_error *err);

#define KPI_SHARDS_MAX 100000

#endif
