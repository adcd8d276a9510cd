/*
 * outdir.h - the output folder: its name, the folders above it, the lock,
 * a staging folder beside it, the swap that makes a new report appear
 * whole, and the cleanup after killed runs.
 *
 * Provides kpi_outdir_*(). Relies on POSIX and Linux calls only (flock,
 * renameat2, syncfs); nothing above it: it does not know what a report
 * holds. Memory: no heap; the caller owns every buffer.
 */
#ifndef KPIEVAL_OUTDIR_H
#define KPIEVAL_OUTDIR_H

#include <stdbool.h>

#include "kpieval/error.h"

#define KPI_PATH_MAX 4096

/* Written in every report folder: what lets a later run know the folder
 * is a kpieval report it may replace (report.json also counts). */
#define KPI_REPORT_MARKER ".kpieval-report"

/* An output folder's name as kpieval uses it: "out/" is "out", so the lock
 * and the staging folders go beside it, not inside. Fails (KPI_EUSAGE)
 * for an empty name, one too long, or one ending in "." or "..". */
int kpi_outdir_normalize(const char *path, char out[KPI_PATH_MAX], struct kpi_error *err);

/* Fails with KPI_EUSAGE when out_dir exists and is not a kpieval report
 * folder (no report.json nor marker) nor empty: kpieval never replaces
 * other files; or when out_dir (with or without a trailing '/') is a
 * symbolic link. Touches nothing: call before any work. */
int kpi_outdir_check(const char *out_dir, struct kpi_error *err);

/* The lock on an output folder: OUT.lock beside OUT. */
struct kpi_outdir_lock {
    int fd;                   /* -1 when not held */
    char path[KPI_PATH_MAX + 64];
    char out[KPI_PATH_MAX];   /* the normalised OUT */
    unsigned parents_made;    /* folders above OUT this lock created */
};
#define KPI_OUTDIR_LOCK_INIT {-1, "", "", 0}

/* Takes the lock for out_dir, creating the folders above it first (and
 * noting which). With wait, blocks until the running owner finishes, else
 * fails at once with KPI_EBUSY naming the owner's PID. A file in the way
 * that kpieval did not write is refused (KPI_EUSAGE) and left as it is. */
int kpi_outdir_lock(const char *out_dir, bool wait, struct kpi_outdir_lock *lock,
                    struct kpi_error *err);

/* Releases the lock and removes its file; then removes the folders above
 * OUT that kpi_outdir_lock created, deepest first, as long as they are
 * empty, so a run that wrote no report leaves nothing behind. Safe on a
 * lock that was never taken. */
void kpi_outdir_unlock(struct kpi_outdir_lock *lock);

/* Cleans up after runs killed while writing out_dir: puts back a previous
 * complete report left in OUT.kpieval-old-XXXXXX when OUT is missing (a
 * kill between the two renames where no atomic exchange exists), then
 * removes the staging folders left beside it. Only safe while holding its
 * lock. Returns how many folders were removed. */
int kpi_outdir_remove_stale(const char *out_dir);

/* The steps of writing a report folder: check out_arg and make a staging
 * folder beside it (out_dir gets the normalised name); then either commit
 * (sync, swap in, remove the previous report) or discard. On a failed
 * commit the staging folder is gone and out_dir is as before. */
int kpi_outdir_stage(const char *out_arg, char out_dir[KPI_PATH_MAX], char staging[KPI_PATH_MAX],
                     struct kpi_error *err);
int kpi_outdir_commit(const char *staging, const char *out_dir, struct kpi_error *err);
void kpi_outdir_discard(const char *staging);

/* mkdir -p of the folders above path; *made (may be NULL) gets how many
 * it created. 0, or -1 with errno set and none of them left. */
int kpi_outdir_make_parents(const char *path, unsigned *made);

#endif
