/*
 * model.h - the inside of kpi_dataset, private to the two files that know
 * it: builder.c, which fills one in, and dataset.c, which orders it into
 * the department tree, keeps shards and answers the read-only views.
 *
 * Provides struct kpi_dataset and the helpers both use (growing arrays,
 * bounded messages in the arena, clipping a cell for a message).
 * Relies on the arena and strmap. Memory: everything reachable from a
 * dataset is in its arena or in the arrays kpi_dataset_free() frees.
 */
#ifndef KPIEVAL_MODEL_H
#define KPIEVAL_MODEL_H

#include <stdarg.h>
#include <stddef.h>

#include "arena.h"
#include "kpieval/dataset.h"
#include "strmap.h"

struct kpi_dataset {
    struct kpi_arena arena;
    char *dir; /* NULL for a dataset built in memory */

    struct kpi_indicator *indicators;
    size_t n_indicators, cap_indicators;
    struct kpi_strmap ids; /* id -> indicator index; KPI_NONE once dropped by a shard */

    const char **expressions;
    size_t n_expressions, cap_expressions;
    struct kpi_strmap expression_ids;
    struct kpi_strmap texts;  /* units and other repeated short texts */
    struct kpi_input *inputs; /* every KPI's inputs, one block */

    struct kpi_department *departments;
    size_t n_departments, n_departments_total;
    struct kpi_strmap department_paths; /* path -> first-seen index */
    const char **seen_paths;            /* distinct department paths in first-seen order */
    size_t n_seen_paths, cap_seen_paths;

    const char **extra_columns;
    size_t n_extra_columns;

    const char *period;

    const char **warnings;
    size_t n_warnings, total_warnings;
    size_t n_first_warnings; /* the first ones, added with first (kpi_dataset_add_warning) */
};

#define KPI_KPI_MESSAGE_MAX 512 /* bytes in a KPI message, with its NUL */

/* An empty dataset (dir copied when not NULL), or NULL when out of memory. */
kpi_dataset *kpi_model_new(const char *dir);

/* Makes room for `need` elements of `elem` bytes in *array; 0 or -1. */
int kpi_model_grow(void **array, size_t *cap, size_t need, size_t elem);

/* A message in the arena, cut (between characters) to KPI_KPI_MESSAGE_MAX
 * bytes; NULL when out of memory. */
const char *kpi_model_vprintf(struct kpi_arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* s, or its first characters and "..." in buf when it is long: a cell
 * quoted in a message. */
const char *kpi_model_clip(const char *s, char buf[64]);

/* Counts a warning; only the first KPI_WARNINGS_KEPT are formatted and
 * kept, so a file of ten million bad rows does not fill the arena. */
void kpi_model_warn(kpi_dataset *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number of a distinct formula or scoring text, adding it when new;
 * *stored is the one copy that every KPI using it shares. 0 or -1. */
int kpi_model_intern_expression(kpi_dataset *ds, const char *text, unsigned *id,
                                const char **stored);

/* The one copy of a department path, recorded in first-seen order for the
 * tree; NULL when out of memory. */
const char *kpi_model_intern_department(kpi_dataset *ds, const char *path);

/* One shared copy of a short repeated text such as a unit, or NULL. */
const char *kpi_model_intern_text(kpi_dataset *ds, const char *text);

/* The department tree from ds->seen_paths (tree order), and each
 * indicator's department_id. Returns 0 or KPI_ENOMEM. */
int kpi_model_build_tree(kpi_dataset *ds, struct kpi_error *err);

/* Sorts the indicators into report order (tree order, then id) and points
 * the id map at their new places. */
void kpi_model_sort(kpi_dataset *ds);

#endif
