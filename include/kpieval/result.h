/*
 * result.h - what evaluating one KPI gives: its status and result row,
 * the default limits of one evaluation, and the progress callback.
 *
 * Provides enum kpi_status with its one names table, struct kpi_result
 * and the KPI_DEFAULT_* limits: the types that evaluation (evaluate.c),
 * its formula engine, sandbox and workers, scoring and the reports share,
 * below all of them. Relies on nothing.
 */
#ifndef KPIEVAL_RESULT_H
#define KPIEVAL_RESULT_H

#include <stdbool.h>
#include <stddef.h>

enum kpi_status { KPI_STATUS_OK, KPI_STATUS_MISSING, KPI_STATUS_ERROR, KPI_STATUS_INVALID };
#define KPI_STATUS_COUNT 4

/* "ok", "missing", "error" or "invalid". */
const char *kpi_status_name(enum kpi_status status);

struct kpi_result {
    double actual;           /* the formula's value, when has_actual */
    double score_value;      /* an expression scoring rule's value, when has_score_value */
    double achievement;      /* set by scoring; meaningful when status is ok */
    double achievement_capped;
    const char *message;     /* NULL when ok */
    const char *note;        /* warnings of failed `warning` rules, one per line; NULL: none */
    enum kpi_status status;
    bool has_actual;         /* the formula returned a finite number */
    bool has_score_value;    /* an expression scoring rule returned a number */
};

#define KPI_DEFAULT_INSTRUCTIONS 1000000ULL      /* VM instructions per evaluation */
#define KPI_DEFAULT_MEMORY (32u * 1024 * 1024)   /* bytes per evaluation */
#define KPI_DEFAULT_SECONDS 2.0                  /* wall time per evaluation */

/* Told how far evaluation has come, every few milliseconds. */
struct kpi_progress {
    void *ctx;
    void (*report)(void *ctx, size_t done, size_t total);
};

#endif
