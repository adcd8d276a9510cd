/*
 * stdlib_path.h - where the standard plugin formulas (ratio.lua, ...) are.
 *
 * Provides kpi_stdlib_find(): the folder named by KPIEVAL_STDLIB when that is
 * set (and then only there); else share/kpieval/formulas of the prefix the
 * executable is installed in, found from /proc/self/exe, so an install can be
 * moved; else, for a binary run from its build tree, the source tree's
 * formulas/ named by the marker file CMake writes beside it. No path is
 * compiled in. Relies on POSIX and input_file.h (the marker is read as an
 * input). Allocates nothing; struct kpi_stdlib is caller-owned, plain storage.
 */
#ifndef KPIEVAL_STDLIB_PATH_H
#define KPIEVAL_STDLIB_PATH_H

#include <stddef.h>

#include "kpieval/error.h"

/* The environment variable that names the folder. */
#define KPI_STDLIB_ENV "KPIEVAL_STDLIB"

/* The marker beside a build tree's binary: one line, the absolute path of
 * the source tree's formulas/ (CMakeLists.txt writes it; never installed). */
#define KPI_STDLIB_MARKER "kpieval-stdlib.path"

/* Longest path looked at, with its NUL; PATH_MAX on Linux. */
#define KPI_STDLIB_PATH_MAX 4096

/* The places looked at: the variable's folder, or the installed layout and
 * the build tree's marker. */
#define KPI_STDLIB_PLACES_MAX 2

struct kpi_stdlib {
    const char *dir;     /* the folder found (points into place[]); NULL: none */
    size_t n_places;     /* places looked at, in order */
    struct kpi_stdlib_place {
        char path[KPI_STDLIB_PATH_MAX]; /* the folder looked for, or the marker */
        const char *what;  /* how this place was chosen, for the message */
        char reason[160];  /* why it was not used; "" for the one used */
    } place[KPI_STDLIB_PLACES_MAX];
    struct kpi_error error; /* when dir is NULL: every place looked and the fix */
};

/* Looks for the standard formulas folder, filling *s.
 * env_dir: the value of KPIEVAL_STDLIB; NULL or "" when unset. When set it
 *   is the only place looked at, so a wrong value is an error, never a
 *   silent fallback to another library.
 * exe: the running executable's path; NULL to read /proc/self/exe.
 * Returns 0 with s->dir set, or KPI_EPLUGIN with s->dir NULL and s->error
 * saying each place looked at, why it failed, and how to fix it. */
int kpi_stdlib_find(const char *env_dir, const char *exe, struct kpi_stdlib *s);

#endif
