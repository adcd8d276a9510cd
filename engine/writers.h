/*
 * writers.h - the report writers behind the table in output.c, and the
 * file helpers they share.
 *
 * Provides the write function of each built-in sink (CSV, JSON, HTML, the
 * shard model) and kpi_output_open()/kpi_output_close(), which open a
 * buffered file in the staging folder and close it with every error
 * checked.
 * Relies on report.h's view of a run and text.h's number formats.
 */
#ifndef KPIEVAL_WRITERS_H
#define KPIEVAL_WRITERS_H

#include <stdio.h>

#include "kpieval/report.h"

/* The writes of the built-in sinks (output.c's table); state is a
 * one-file sink's (kpi_sink_file) but for departments/. */
int kpi_write_kpis_csv(const struct kpi_report *rep, void *state, struct kpi_error *err);
int kpi_write_departments_csv(const struct kpi_report *rep, void *state, struct kpi_error *err);
int kpi_write_report_json(const struct kpi_report *rep, void *state, struct kpi_error *err);
int kpi_write_report_html(const struct kpi_report *rep, void *state, struct kpi_error *err);

/* departments/: a folder of one CSV per department node. */
int kpi_department_files_prepare(const struct kpi_sink *self, const struct kpi_report *rep,
                                 const char *dir, void **state, struct kpi_error *err);
int kpi_write_department_files(const struct kpi_report *rep, void *state, struct kpi_error *err);
int kpi_department_files_commit(void *state, struct kpi_error *err);
void kpi_department_files_abort(void *state);

/* report.xlsx (write_xlsx.c): libxlsxwriter writes to a path, so the
 * sink has its own prepare, commit (workbook_close's error checked) and
 * abort. */
int kpi_xlsx_prepare(const struct kpi_sink *self, const struct kpi_report *rep, const char *dir,
                     void **state, struct kpi_error *err);
int kpi_write_xlsx(const struct kpi_report *rep, void *state, struct kpi_error *err);
int kpi_xlsx_commit(void *state, struct kpi_error *err);
void kpi_xlsx_abort(void *state);

/* The model of a partial report, which `kpieval merge` reads (shard.c). */
#define KPI_SHARD_MODEL "shard.txt"
int kpi_write_shard_model(const struct kpi_report *rep, void *state, struct kpi_error *err);

/* s as a JSON string, quoted and escaped (also for `--log json`). */
void kpi_json_put_string(FILE *f, const char *s);

/* Each report file is written by one thread, so the writers use stdio
 * without its per-call locking. */
static inline void kpi_out_s(FILE *f, const char *s)
{
    fputs_unlocked(s, f);
}

static inline void kpi_out_c(FILE *f, int c)
{
    putc_unlocked(c, f);
}

static inline void kpi_out_n(FILE *f, const char *s, size_t n)
{
    fwrite_unlocked(s, 1, n, f);
}

/* A whole number in decimal, without printf. */
static inline void kpi_out_u(FILE *f, unsigned long long v)
{
    char buf[24], *p = buf + sizeof buf;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    kpi_out_n(f, p, (size_t)(buf + sizeof buf - p));
}

/* The KPIs of department node d and of those beneath it: rep->kpis[*first,
 * *end). KPIs are in tree order, so a subtree is one run of them, and the
 * runs of successive departments start in order: from is 0 or the first
 * KPI of an earlier department, where the search starts. */
void kpi_report_subtree(const struct kpi_report *rep, size_t d, size_t from, size_t *first,
                        size_t *end);

FILE *kpi_output_open(const char *dir, const char *name, struct kpi_error *err);

/* Flushes and closes f; returns 0 or KPI_EIO naming `name`. The files are
 * synced to disk together before the report is swapped in. */
int kpi_output_close(FILE *f, const char *name, struct kpi_error *err);

#endif
