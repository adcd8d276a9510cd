/*
 * catalog.h - the plugin formulas a dataset sees: each function's name,
 * parameters and one-line description, and which file shadows which.
 *
 * Provides kpi_catalog (opaque; _new/_free) and kpi_catalog_plugin_dir().
 * The description is a plugin file's first line, `-- NAME(PARAMS): WHAT`
 * (docs/formats.md, "Plugin formulas"). Relies on input_file.h (a plugin
 * is read only as a regular file). Memory: the catalog owns its entries.
 */
#ifndef KPIEVAL_CATALOG_H
#define KPIEVAL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "kpieval/error.h"

/* The longest first line read for a description. */
#define KPI_CATALOG_LINE_MAX 400

struct kpi_plugin_entry {
    const char *name;        /* what formulas call it: the file name without .lua */
    const char *path;        /* DIR/NAME.lua */
    const char *params;      /* "part, whole" from the first line; NULL when it has none */
    const char *description; /* the rest of the first line; NULL when it has none */
    const char *problem;     /* why the first line gives no description, or NULL */
    size_t folder;           /* index of its folder among those given */
    size_t shadowed_by;      /* index of the entry used in its place; SIZE_MAX: none */
};

typedef struct kpi_catalog kpi_catalog;

/* Reads the *.lua files of dirs[0..n) (a later folder shadows an earlier
 * one, as in a run; a folder that does not exist holds none). Entries are
 * by folder, then by name. A first line that is not `-- NAME(PARAMS): ...`
 * with NAME the file's is no error: its entry's `problem` says so.
 * Returns 0, KPI_EPLUGIN when a folder or file cannot be read, KPI_ENOMEM. */
int kpi_catalog_new(const char *const *dirs, size_t n, kpi_catalog **out, struct kpi_error *err);
void kpi_catalog_free(kpi_catalog *c);

const struct kpi_plugin_entry *kpi_catalog_entries(const kpi_catalog *c, size_t *n);

/* The plugin folder of dir: DIR/formulas when dir is a dataset folder (it
 * holds indicators.csv), else dir itself. Written into out[size]; returns
 * false when it does not fit. */
bool kpi_catalog_plugin_dir(const char *dir, char *out, size_t size);

#endif
