/*
 * check.h - `kpieval check`: everything a run would reject or warn about,
 * found without evaluating a KPI or writing a file.
 *
 * Provides kpi_check(): loads the dataset and the plugins as a run does,
 * compiles every formula and scoring expression, resolves every name they
 * read against the KPI's inputs (and declared inputs), the plugins and the
 * library, and hands each finding to a callback as a diagnostic at
 * file:line:column, with the formula's line and the span to underline, the
 * names that do exist and a near name ("did you mean"). The dataset's own
 * problems (invalid KPIs, the plan checks) come as diagnostics too.
 * Relies on the loader, the formula engine (the same sandbox and limits as
 * a run) and the name reader (lua_names.h). Memory: a diagnostic's strings
 * are valid only during the callback.
 */
#ifndef KPIEVAL_CHECK_H
#define KPIEVAL_CHECK_H

#include <stddef.h>

#include "kpieval/error.h"
#include "kpieval/run.h"

enum kpi_severity { KPI_SEVERITY_ERROR, KPI_SEVERITY_WARNING };

struct kpi_diagnostic {
    enum kpi_severity severity;
    const char *file;     /* path as the user gave the dataset, or NULL */
    unsigned line;        /* 0: none */
    unsigned column;      /* in characters, 1-based; 0: none */
    const char *message;
    const char *source;   /* the formula's line to show, or NULL */
    size_t span_at, span_len; /* bytes of source to underline (span_len 0: one caret) */
    const char *names;    /* the names that do exist there, or NULL */
    const char *setting;  /* a KPI_SETTING_* that would mend it (error.h), or NULL */
};

struct kpi_check_counts {
    size_t kpis, expressions, plugins;
    size_t errors, warnings;
};

/* Checks opt->dataset with opt's period, encoding, plugin folders and
 * limits (out, reports, shard and the rest are ignored); on_diagnostic gets
 * each finding in file order. Returns 0 with *counts filled (errors among
 * them are findings, not failures), or a negative KPI_E* only when out of
 * memory or the plugin check cannot run. */
int kpi_check(const struct kpi_run_options *opt,
              void (*on_diagnostic)(void *ctx, const struct kpi_diagnostic *d), void *ctx,
              struct kpi_check_counts *counts, struct kpi_error *err);

#endif
