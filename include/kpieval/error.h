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
    KPI_ELIMIT = -8   /* the run broke a limit set for it, e.g. max_errors */
};

#define KPI_ERROR_MESSAGE_MAX 1024
#define KPI_ERROR_FILE_MAX    1024 /* bytes of `file`, with its NUL; longer names are cut */
#define KPI_ERROR_KPI_MAX     256  /* bytes of `kpi`, with its NUL; longer ids are cut */

/* The run settings an error can concern (`setting`), in the library's own
 * words: the members of struct kpi_run_options (run.h) and of
 * kpi_dataset_load's options that hold them. A caller that lets people
 * choose a setting (a command-line option, a form field) names it its own
 * way; the library never does. */
#define KPI_SETTING_OUT        "out"
#define KPI_SETTING_PERIOD     "period"
#define KPI_SETTING_GRADES     "grades"
#define KPI_SETTING_UNSCORED   "unscored"
#define KPI_SETTING_LANG       "lang"
#define KPI_SETTING_REPORTS    "reports"
#define KPI_SETTING_FORMULAS   "formulas" /* more plugin folders: formula_dirs */
#define KPI_SETTING_WAIT       "wait"
#define KPI_SETTING_MAX_ERRORS "max_errors"
#define KPI_SETTING_SHARD      "shard" /* shard_index and shard_count */
#define KPI_SETTING_ENCODING   "encoding"

/* Filled by a failing call. `message` is complete on its own and already
 * names the file and line when there is one (git style, location first);
 * the other members say the same for a program to read, so no caller has
 * to take the message apart. Caller-owned, no pointers to free: `setting`
 * is one of the static KPI_SETTING_* strings. */
struct kpi_error {
    int code;
    char message[KPI_ERROR_MESSAGE_MAX];
    char file[KPI_ERROR_FILE_MAX]; /* the input file as the message names it, e.g.
                                      "actuals.csv" or a plugin's path; "" when none */
    unsigned line, column;         /* 1-based; 0 when unknown */
    char kpi[KPI_ERROR_KPI_MAX];   /* the KPI id when the error is about one KPI; "" otherwise */
    const char *setting;           /* a KPI_SETTING_* the error concerns; NULL when none */
};

/* Fills err (when non-NULL) with code and the message, and clears the
 * place, the KPI and the setting; returns code, so callers can write
 * `return kpi_error_set(err, KPI_EINPUT, "...", ...)`. */
int kpi_error_set(struct kpi_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* kpi_error_set(), plus the place: file (as the message names it; NULL for
 * none), line and column (0 when unknown). The message still says where. */
int kpi_error_at(struct kpi_error *err, int code, const char *file, unsigned line, unsigned column,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Record, in an error already filled, the KPI it is about or the setting
 * it concerns (a KPI_SETTING_*); both return code, so a failing path can
 * end with `return kpi_error_setting(err, rc, KPI_SETTING_PERIOD)`. */
int kpi_error_kpi(struct kpi_error *err, int code, const char *kpi_id);
int kpi_error_setting(struct kpi_error *err, int code, const char *setting);

/* Short human name of a code, e.g. "input error". */
const char *kpi_error_name(int code);

#endif
