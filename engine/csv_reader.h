/*
 * csv_reader.h - reads an RFC 4180 CSV file row by row, with exact line numbers.
 *
 * Provides kpi_csv_read(): checks the whole file first (NUL bytes, UTF-8,
 * with a hint for CP949 exports), skips a BOM, then hands each row to a
 * callback; the first row is the header and every later row must have as
 * many fields. A CP949 file is converted to UTF-8 as it is read (iconv(3)),
 * a window at a time. Relies on libcsv for the quoting rules. Memory: the
 * row and its fields are valid only during the callback.
 */
#ifndef KPIEVAL_CSV_READER_H
#define KPIEVAL_CSV_READER_H

#include <stddef.h>
#include <stdint.h>

#include "kpieval/encoding.h"
#include "kpieval/error.h"
#include "kpieval/limits.h" /* KPI_CSV_FIELD_MAX, KPI_CSV_FIELDS_MAX, KPI_CSV_WINDOW */
#include "kpieval/provenance.h"

struct kpi_csv_row {
    const char *file;    /* name for messages, e.g. "indicators.csv" */
    unsigned line;       /* line where the row starts, 1-based */
    unsigned index;      /* 0 for the header, then 1, 2, ... */
    size_t nfields;
    char **fields;       /* NUL-terminated; writable scratch */
};

/* Called once per row; returns 0 to go on or a negative KPI_E* (with err
 * filled) to stop reading. */
typedef int (*kpi_csv_row_fn)(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err);

/* Reads path, in `encoding`, naming it `name` in messages; the rows are
 * UTF-8 whatever the encoding. Returns 0, or a negative KPI_E* with err
 * filled: KPI_EIO when the file cannot be read, KPI_EINPUT for a malformed
 * file (message "name:line: ..."), or whatever on_row returned. Errors
 * that reading in another encoding could mend (a CP949 file read as
 * UTF-8, a byte that is not CP949) have the setting KPI_SETTING_ENCODING.
 * Lines and columns are the file's own: a column counts characters. */
int kpi_csv_read(const char *path, const char *name, enum kpi_encoding encoding,
                 kpi_csv_row_fn on_row, void *ctx, struct kpi_error *err);

/* kpi_csv_read, and the file's fingerprint for provenance.h without reading
 * it again: every byte of the file as it is (before any conversion) goes
 * into digest (when not NULL) as the check pass reads it, and *data_rows
 * (when not NULL) gets the rows after the header once every row has been
 * handed over. */
int kpi_csv_read_digest(const char *path, const char *name, enum kpi_encoding encoding,
                        kpi_csv_row_fn on_row, void *ctx, kpi_sha256 *digest,
                        uint64_t *data_rows, struct kpi_error *err);

/* The same over data[0..len) in memory (for tests and fuzzing). */
int kpi_csv_read_buffer(const char *data, size_t len, const char *name,
                        enum kpi_encoding encoding, kpi_csv_row_fn on_row, void *ctx,
                        struct kpi_error *err);

#endif
