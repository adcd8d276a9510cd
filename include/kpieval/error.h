/*
 * error.h - error codes and the error record every kpieval call fills.
 *
 * Provides: KPI_E* codes and struct kpi_error, a caller-owned record that a
 * failing function fills with the code, the place (file, line, column) and a
 * message in git style (lower case, no full stop, location first).
 * Relies on nothing. The library never prints; callers decide what to show.
 */
#ifndef KPIEVAL_ERROR_H
#define KPIEVAL_ERROR_H

#include <stddef.h>

enum kpi_error_code {
    KPI_OK = 0,
    KPI_ENOMEM = -1,  /* out of memory */
    KPI_EIO = -2,     /* a file could not be read or written */
    KPI_EINPUT = -3,  /* an input file is malformed */
    KPI_EUSAGE = -4,  /* bad arguments or options */
    KPI_EPLUGIN = -5, /* a plugin formula could not be loaded */
    KPI_ELUA = -6,    /* the Lua runtime could not be set up */
    KPI_EBUSY = -7,   /* another run holds the output folder's lock */
    KPI_ELIMIT = -8   /* the run broke a limit set for it, e.g. --max-errors */
};

#define KPI_ERROR_MESSAGE_MAX 1024

/* Filled by a failing call; `message` is complete on its own and already
 * names the file and line when there is one. */
struct kpi_error {
    int code;
    char message[KPI_ERROR_MESSAGE_MAX];
};

/* Fills err (when non-NULL) and returns code, so callers can write
 * `return kpi_error_set(err, KPI_EINPUT, "%s:%u: ...", ...)`. */
int kpi_error_set(struct kpi_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short human name of a code, e.g. "input error". */
const char *kpi_error_name(int code);

#endif
