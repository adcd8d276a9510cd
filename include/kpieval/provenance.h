/*
 * provenance.h - where a report came from: the program's version, the
 * command line, when the run started and finished, every file it read
 * with its SHA-256 and size in rows, and the settings that change a number.
 *
 * Provides struct kpi_provenance (caller-owned: _init/_release), which the
 * pipeline fills as it loads and the report view carries to every sink,
 * and kpi_sha256 (opaque), a streaming digest. Relies on nettle for
 * SHA-256 and on error.h. Memory: the struct owns every string in it.
 */
#ifndef KPIEVAL_PROVENANCE_H
#define KPIEVAL_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#include "kpieval/error.h"

#define KPI_SHA256_HEX 65 /* 64 lower-case hex digits and a NUL */
#define KPI_TIME_BUF 21   /* "2026-12-06T06:40:00Z" and a NUL */

/* The environment variable that, when set, fixes both times of the run
 * (seconds since 1970 UTC; reproducible-builds.org's convention), so two
 * runs over the same inputs write byte-identical reports. */
#define KPI_SOURCE_DATE_EPOCH "SOURCE_DATE_EPOCH"

enum kpi_provenance_kind {
    KPI_PROVENANCE_INPUT,   /* a dataset file; rows: data rows, the header not counted */
    KPI_PROVENANCE_FORMULA, /* a plugin formula file; rows: lines */
    KPI_PROVENANCE_KINDS
};

struct kpi_provenance_file {
    char *path;                  /* an input: relative to the dataset; a formula:
                                    as the run read it (its folder as given) */
    char sha256[KPI_SHA256_HEX]; /* of the file's bytes, as read */
    uint64_t rows;
};

struct kpi_provenance_setting {
    char *name;  /* a run setting's name, e.g. "cap" (error.h's KPI_SETTING_* words) */
    char *value; /* its effective value as text, a default included */
};

struct kpi_provenance {
    char *version;  /* of kpieval; NULL: unknown */
    char *command;  /* the command line, each argument shell-quoted; NULL: unknown */
    char started[KPI_TIME_BUF], finished[KPI_TIME_BUF]; /* UTC, ISO 8601; "" until set */
    struct kpi_provenance_file *files[KPI_PROVENANCE_KINDS]; /* in the order read */
    size_t n_files[KPI_PROVENANCE_KINDS];
    /* Every setting that changes a number in the report: the pipeline
     * records those it knows (run.c), a caller may add its own before the
     * run. A list, so that a new setting is one more call, not a field. */
    struct kpi_provenance_setting *settings;
    size_t n_settings;
};

void kpi_provenance_init(struct kpi_provenance *p);
void kpi_provenance_release(struct kpi_provenance *p);

/* Sets p->version to a copy of version. 0 or KPI_ENOMEM. */
int kpi_provenance_set_version(struct kpi_provenance *p, const char *version,
                               struct kpi_error *err);

/* Sets p->command to argv[0..argc) joined by spaces, each argument
 * quoted for a POSIX shell where it needs it ('it'\''s'), so that the
 * command can be pasted back. 0 or KPI_ENOMEM. */
int kpi_provenance_set_command(struct kpi_provenance *p, int argc, const char *const *argv,
                               struct kpi_error *err);

/* Writes the time now into out, "2026-12-06T06:40:00Z", or the time
 * SOURCE_DATE_EPOCH names when it is set. 0, or KPI_EUSAGE when
 * SOURCE_DATE_EPOCH is not a whole number of seconds from 0 to
 * 253402300799 (9999-12-31T23:59:59Z). */
int kpi_provenance_now(char out[KPI_TIME_BUF], struct kpi_error *err);

/* True when s is a time as kpi_provenance_now writes it, a real date. */
int kpi_provenance_time_ok(const char *s);

/* Appends a file of kind with its digest (hex, as kpi_sha256_final
 * gives it) and rows; path is copied. 0 or KPI_ENOMEM. */
int kpi_provenance_add_file(struct kpi_provenance *p, enum kpi_provenance_kind kind,
                            const char *path, const char *sha256, uint64_t rows,
                            struct kpi_error *err);

/* Records setting name = value (both copied); an earlier value of the same
 * name is replaced. 0 or KPI_ENOMEM. */
int kpi_provenance_set(struct kpi_provenance *p, const char *name, const char *value,
                       struct kpi_error *err);

/* The value of setting name, or NULL. */
const char *kpi_provenance_get(const struct kpi_provenance *p, const char *name);

/* True when a and b record the same files and settings (versions,
 * commands and times aside): reports made from the same inputs. */
int kpi_provenance_same_inputs(const struct kpi_provenance *a, const struct kpi_provenance *b);

/* ---- SHA-256, a piece at a time ------------------------------------------ */

typedef struct kpi_sha256 kpi_sha256;

/* A new digest, or NULL out of memory. */
kpi_sha256 *kpi_sha256_new(void);
void kpi_sha256_update(kpi_sha256 *h, const void *bytes, size_t n);
/* Writes the digest of every byte given so far as 64 lower-case hex
 * digits and starts again from nothing. */
void kpi_sha256_final(kpi_sha256 *h, char hex[KPI_SHA256_HEX]);
void kpi_sha256_free(kpi_sha256 *h);

/* The digest of bytes[0..n) and its lines (newlines, plus one for a last
 * line without one): how a formula file held in memory is recorded. */
void kpi_sha256_lines(const void *bytes, size_t n, char hex[KPI_SHA256_HEX], uint64_t *lines);

/* The digest of the file at path, read a bounded buffer at a time, and
 * its lines as kpi_sha256_lines counts them. 0, or KPI_EIO naming path,
 * or KPI_ENOMEM. */
int kpi_sha256_file(const char *path, char hex[KPI_SHA256_HEX], uint64_t *lines,
                    struct kpi_error *err);

#endif
