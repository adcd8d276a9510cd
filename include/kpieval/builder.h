/*
 * builder.h - builds a dataset in memory, row by row, without files.
 *
 * Provides kpi_builder (opaque; _new/_free): add indicators, then their
 * actual inputs, choose the period, and kpi_builder_finish() hands back
 * the kpi_dataset that kpi_dataset_load() makes of the same rows (the
 * loader goes through the builder): report order, department tree, each
 * KPI's `invalid` reason, each composite KPI's dependencies (the
 * kpi_value("ID") calls of its formula) with the dependency cycles made
 * `invalid`, so the plan is built on a graph without cycles. The builder
 * is the one place where the cells of
 * an indicator and of an actual are read and checked (docs/formats.md), so
 * both ways in obey the same rules with the same messages.
 * Relies on the dataset model and the text rules.
 * Memory: the builder copies every string it is given; specs are only
 * read during the call.
 */
#ifndef KPIEVAL_BUILDER_H
#define KPIEVAL_BUILDER_H

#include <stddef.h>

#include "kpieval/dataset.h"
#include "kpieval/error.h"

typedef struct kpi_builder kpi_builder;

/* One row of indicators.csv: each cell as written, blanks around it
 * removed (except in `name`, shown as written); NULL is an empty cell. */
struct kpi_indicator_spec {
    const char *id, *name, *department, *unit, *direction;
    const char *baseline, *target, *formula, *weight, *scoring;
    const char *inputs;       /* declared input names, ';' between them; NULL or
                                 empty: none declared */
    const char *if_missing;   /* "missing", "zero", or empty (missing) */
    const char *const *extra; /* a cell per kpi_builder_set_extra_columns()
                                 name, NULL cells empty; NULL: all empty */
    unsigned line;            /* its line in indicators.csv; 0: numbered as
                                 a file would, the first row added is line 2 */
};

/* One row of actuals.csv for the period chosen (the caller selects rows
 * by period; kpi_builder_set_period() names it). */
struct kpi_actual_spec {
    const char *indicator, *input, *value; /* cells as written, blanks removed */
    unsigned line; /* its line in actuals.csv; 0: numbered as a file would */
};

/* An empty builder. dir: the dataset folder the rows come from, for
 * kpi_dataset_dir(); NULL when built in memory. Returns 0 or KPI_ENOMEM. */
int kpi_builder_new(const char *dir, kpi_builder **out, struct kpi_error *err);

/* Frees b and anything it holds (not a dataset handed out by finish). */
void kpi_builder_free(kpi_builder *b);

/* Names the extra columns (any column beyond those of docs/formats.md),
 * reachable from formulas as kpi.<name>. Only before the first indicator.
 * Returns 0, KPI_EUSAGE (called late) or KPI_ENOMEM. */
int kpi_builder_set_extra_columns(kpi_builder *b, const char *const *names, size_t n,
                                  struct kpi_error *err);

/* Adds an indicator. Returns 0 when it is added, also when it is only
 * `invalid` (a bad number, direction, scoring, weight or formula: the
 * first such problem is its reason); KPI_EINPUT for what stops a run (a
 * bad or duplicate id, an empty name, a bad department path, the message
 * naming indicators.csv and the line); KPI_EUSAGE after the first actual;
 * KPI_ENOMEM. After an error other than KPI_EUSAGE, only _free is left. */
int kpi_builder_add_indicator(kpi_builder *b, const struct kpi_indicator_spec *spec,
                              struct kpi_error *err);

/* Adds one input of an indicator added before. An unknown indicator is a
 * warning (kpi_dataset_warnings()) and the row is ignored; a bad input
 * name or value makes the indicator `invalid`, as does a duplicate input
 * (found by finish). Returns 0, or KPI_ENOMEM. */
int kpi_builder_add_actual(kpi_builder *b, const struct kpi_actual_spec *spec,
                           struct kpi_error *err);

/* Notes an input name of a row for another period: a known input name,
 * which if_missing zero may fill (docs/formats.md). Names that are not
 * Lua identifiers are ignored. Returns 0 or KPI_ENOMEM. */
int kpi_builder_note_input(kpi_builder *b, const char *name, struct kpi_error *err);

/* The period the actuals are for (copied; NULL: none). Messages about
 * duplicate inputs name it. Returns 0 or KPI_ENOMEM. */
int kpi_builder_set_period(kpi_builder *b, const char *period, struct kpi_error *err);

/* Number of indicators added so far. */
size_t kpi_builder_count(const kpi_builder *b);

/* Orders what was added (department tree, report order, each KPI's
 * inputs in display order) and hands it over in *out, the caller's to
 * kpi_dataset_free(); b is left empty and must still be freed. Returns 0,
 * KPI_EINPUT when no indicator was added, or KPI_ENOMEM. */
int kpi_builder_finish(kpi_builder *b, kpi_dataset **out, struct kpi_error *err);

#endif
