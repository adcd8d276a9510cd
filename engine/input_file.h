/*
 * input_file.h - opens a file kpieval reads (a dataset's CSVs, a plugin, a
 * partial report's files) so that it is a regular file, checked on the open
 * descriptor.
 *
 * Provides kpi_input_open(): a FIFO, device, socket or folder is refused at
 * once instead of blocking the run (which holds the output lock) or feeding
 * it endless bytes, and a symbolic link is not followed, so no message ever
 * quotes a file the dataset merely points at. Relies on POSIX open/fstat.
 */
#ifndef KPIEVAL_INPUT_FILE_H
#define KPIEVAL_INPUT_FILE_H

#include <sys/stat.h>

#include "kpieval/error.h"

/* Opens path read-only (close-on-exec). name is the file as refusals call
 * it ("actuals.csv", or the path itself); code is the KPI_E* to fail with
 * when the file is there but is not one kpieval reads. Returns the
 * descriptor, blocking reads as usual, with *st (may be NULL) filled by
 * fstat on it; or a negative KPI_E* with err filled:
 *   "PATH: cannot open: REASON"  (KPI_EIO; errno is kept for the caller)
 *   "NAME: a symbolic link; kpieval does not follow links to inputs: ..."
 *   "NAME: not a regular file"   (a folder, FIFO, device or socket) */
int kpi_input_open(const char *path, const char *name, int code, struct stat *st,
                   struct kpi_error *err);

#endif
