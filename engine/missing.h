/*
 * missing.h - the missing-data policy of a KPI (indicators.csv's optional
 * `if_missing` column, docs/formats.md): reading the cell, and which absent
 * inputs a KPI under `zero` is given as 0.
 *
 * Provides the policy's names, kpi_missing_fill() for the builder and
 * kpi_missing_filled() for the formula engine. Relies on the dataset
 * model and the arena. Memory: a filled KPI's inputs are a new array in
 * the arena given; names point to the interned names the caller passes.
 */
#ifndef KPIEVAL_MISSING_H
#define KPIEVAL_MISSING_H

#include <stdbool.h>

#include "arena.h"
#include "kpieval/dataset.h"

/* The accepted values, for messages. */
#define KPI_IF_MISSING_ACCEPTED "'missing' or 'zero'"

/* Reads an if_missing cell ("" is the default, `missing`). Returns 0 and
 * *out, or -1 when the text is none of KPI_IF_MISSING_ACCEPTED. */
int kpi_missing_parse(const char *text, enum kpi_if_missing *out);

/* "missing" or "zero". */
const char *kpi_missing_name(enum kpi_if_missing policy);

/* Whether name is a known input name (a name the policy may fill): the
 * one predicate the builder hands to kpi_missing_fill(). ctx is its own.
 * Returns the interned copy of the name to keep, or NULL when unknown. */
typedef const char *(*kpi_known_input_fn)(void *ctx, const struct kpi_indicator *k,
                                          const char *name);

/* For a KPI under `zero`: adds an input of value 0 and line 0 for each word
 * of its formula (a maximal run of [A-Za-z0-9_] not after a '.') that
 * known() accepts and that has no row, and puts all its inputs in display
 * order again (first use in the formula, then by name). Nothing to do for
 * other KPIs. Returns 0, or -1 out of memory (k unchanged). */
int kpi_missing_fill(struct kpi_arena *a, struct kpi_indicator *k, kpi_known_input_fn known,
                     void *ctx);

/* True when name is one of k's filled inputs. */
bool kpi_missing_filled(const struct kpi_indicator *k, const char *name);

/* Number of k's filled inputs. */
unsigned kpi_missing_count(const struct kpi_indicator *k);

/* An input with its rank (where the formula first uses its name;
 * SIZE_MAX when it does not), and the order inputs are shown in: by rank,
 * then name, then line. For qsort; the builder and kpi_missing_fill()
 * rank alike. */
struct kpi_ranked_input {
    size_t rank;
    struct kpi_input input;
};
int kpi_input_display_order(const void *a, const void *b);

#endif
