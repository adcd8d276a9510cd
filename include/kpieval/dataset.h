/*
 * dataset.h - the model: indicators, their actual inputs and the department
 * tree, loaded from a dataset folder (indicators.csv, actuals.csv) or built
 * in memory (builder.h, which the loader uses too).
 *
 * Provides kpi_dataset (opaque; _load/_free), read-only views of its rows,
 * lookup by id and shards. Relies on the CSV reader and the text rules
 * (docs/formats.md). Memory: every string and array reachable from a
 * dataset lives in the dataset and is freed by kpi_dataset_free(); views
 * are never owned.
 */
#ifndef KPIEVAL_DATASET_H
#define KPIEVAL_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "kpieval/encoding.h"
#include "kpieval/error.h"

typedef struct kpi_dataset kpi_dataset;

#define KPI_NONE ((unsigned)-1)

/* Limits on indicators.csv (docs/formats.md). */
#define KPI_DEPARTMENT_LEVELS_MAX 32
#define KPI_DEPARTMENT_PATH_MAX 1000 /* bytes */
#define KPI_WEIGHT_MAX 1e9
#define KPI_STR_(x) #x
#define KPI_STR(x) KPI_STR_(x)

enum kpi_direction { KPI_DIRECTION_INCREASE, KPI_DIRECTION_DECREASE };

enum kpi_scoring {
    KPI_SCORING_RATIO,      /* the direction's ratio rule (default) */
    KPI_SCORING_LINEAR,
    KPI_SCORING_BASELINE,
    KPI_SCORING_BINARY,
    KPI_SCORING_EXPRESSION  /* a Lua expression over actual, target, baseline */
};

/* What a formula gets for a known input without a row this period
 * (indicators.csv's if_missing, docs/formats.md). */
enum kpi_if_missing {
    KPI_IF_MISSING_MISSING, /* the KPI is `missing` (default) */
    KPI_IF_MISSING_ZERO     /* the input counts as 0 */
};

/* One measured input of a KPI for the selected period. */
struct kpi_input {
    const char *name;  /* a Lua identifier */
    double value;
    unsigned line;     /* in actuals.csv; 0: no row, filled with 0 by if_missing zero */
};

/* True when in was filled by if_missing zero, not read from actuals.csv. */
static inline bool kpi_input_is_filled(const struct kpi_input *in)
{
    return in->line == 0;
}

/* Cells of a KPI that could not be read, kept as written for the reports
 * (NULL when the cell was fine). */
struct kpi_bad_cells {
    const char *baseline, *target, *weight, *direction;
};

/* One KPI. Kept small (a million of them is the nightly case): texts that
 * repeat (department, unit, formula) point to one shared copy. */
struct kpi_indicator {
    const char *id, *name, *department, *unit;
    const char *formula;      /* text as written */
    const char *scoring_text; /* the expression when scoring is EXPRESSION */
    const char *const *extra; /* values of kpi_dataset_extra_columns() */
    const struct kpi_input *inputs; /* in display order: formula order, then by name */
    const char *declared;     /* the `inputs` cell: input names joined by ';' without
                                 blanks ("employed;eligible"), or NULL without one */
    const char *invalid;      /* why the KPI cannot be evaluated, or NULL */
    const struct kpi_bad_cells *bad; /* never NULL; all NULL when every cell was read */
    double baseline, target, weight;
    unsigned line;            /* row in indicators.csv */
    unsigned formula_id;      /* index into kpi_dataset_expressions() */
    unsigned scoring_id;      /* same, or KPI_NONE */
    unsigned department_id;   /* index into kpi_dataset_departments() */
    unsigned n_inputs;
    unsigned char direction;  /* enum kpi_direction */
    unsigned char scoring;    /* enum kpi_scoring */
    unsigned char if_missing; /* enum kpi_if_missing */
    bool has_baseline;
    /* Composite KPIs: the ids of the KPIs the formula reads with
     * kpi_value("ID"), each once, in the order first read (found in the
     * text when the dataset is built; docs/formats.md). KPIs of one
     * formula text share the array. An `invalid` KPI reads nothing, but
     * keeps the list for the reports. */
    const char *const *deps;
    unsigned n_deps;
};

/* A node of the department tree; nodes are in tree order (a department
 * before its children, siblings by byte order of their names). */
struct kpi_department {
    const char *path;   /* e.g. "경제진흥본부/경제정책과" */
    const char *name;   /* last level, points into path */
    unsigned parent;    /* index of the parent node, or KPI_NONE */
    unsigned depth;     /* 0 for top-level departments */
    unsigned number;    /* position in the whole tree, also in a shard (file names) */
};

struct kpi_provenance;

struct kpi_load_options {
    const char *period;          /* select this period; NULL: the file must hold one */
    enum kpi_encoding encoding;  /* of both files; 0 is UTF-8 */
    struct kpi_provenance *provenance; /* may be NULL; else each file read is added
                                          to it, with its SHA-256 and data rows */
};

/* Loads DIR/indicators.csv and DIR/actuals.csv (engine/load_csv.c, which
 * hands the rows to the builder, builder.h). Returns 0 and *out, or a
 * negative KPI_E* with err naming file, line and field. Problems confined to
 * one KPI do not fail the load: they set that indicator's `invalid`. */
int kpi_dataset_load(const char *dir, const struct kpi_load_options *opt, kpi_dataset **out,
                     struct kpi_error *err);
void kpi_dataset_free(kpi_dataset *ds);

/* Indicators in report order: by department in tree order, then by id in
 * byte order, whatever the order of the rows in indicators.csv. The KPIs
 * of a department and everything beneath it are one contiguous run. */
const struct kpi_indicator *kpi_dataset_indicators(const kpi_dataset *ds, size_t *n);
const struct kpi_department *kpi_dataset_departments(const kpi_dataset *ds, size_t *n);

/* True when name is among k's declared inputs (the `inputs` column). */
bool kpi_indicator_declares(const struct kpi_indicator *k, const char *name);

/* The indicator with this id, among those kpi_dataset_indicators() lists
 * (a shard's dropped KPIs are not found), or NULL. One lookup, whatever
 * the number of KPIs. */
const struct kpi_indicator *kpi_dataset_find(const kpi_dataset *ds, const char *id);

/* The shard (1..count) a top-level department belongs to: FNV-1a (64 bit)
 * of its name's bytes, modulo count, plus one. Stable across machines,
 * runs and versions of the dataset that keep the name. */
unsigned kpi_shard_of(const char *top_level, unsigned count);

/* Keeps only the top-level departments of shard `index` of `count`, with
 * everything beneath them, and their KPIs; department numbers stay those
 * of the whole tree. A composite KPI is kept with the KPIs it reads: top-
 * level departments tied by a KPI under one reading a KPI under another
 * (directly or through others) are one group, in the shard of the group's
 * first name in byte order (kpi_shard_of of it), so a shard may hold a
 * top-level department that kpi_shard_of alone would put elsewhere.
 * Returns 0 or a negative KPI_E*. */
int kpi_dataset_keep_shard(kpi_dataset *ds, unsigned index, unsigned count,
                           struct kpi_error *err);

/* Number of department nodes in the whole tree (before keep_shard). */
size_t kpi_dataset_departments_total(const kpi_dataset *ds);

/* Distinct formula and scoring texts; each is compiled once. */
const char *const *kpi_dataset_expressions(const kpi_dataset *ds, size_t *n);

/* Names of the extra columns of indicators.csv, in file order. */
const char *const *kpi_dataset_extra_columns(const kpi_dataset *ds, size_t *n);

/* The period evaluated (NULL when actuals.csv has no period column). */
const char *kpi_dataset_period(const kpi_dataset *ds);

/* Non-fatal remarks, e.g. actuals for unknown KPIs; `total` counts all of
 * them though at most KPI_WARNINGS_KEPT are kept. */
#define KPI_WARNINGS_KEPT 100
const char *const *kpi_dataset_warnings(const kpi_dataset *ds, size_t *n, size_t *total);

/* Adds a warning of a later stage (rules, evaluation) after the dataset's
 * own, counted and kept as they are; with first, before every warning not
 * added with first (so that the kept ones, at most KPI_WARNINGS_KEPT,
 * include it: a plugin that failed to load). Returns 0 or KPI_ENOMEM. */
int kpi_dataset_add_warning(kpi_dataset *ds, const char *text, bool first,
                            struct kpi_error *err);

/* The dataset folder as given; NULL for a dataset built in memory. */
const char *kpi_dataset_dir(const kpi_dataset *ds);

#endif
