/*
 * fuzz_csv.c - the CSV reader on arbitrary bytes.
 *
 * Input: the whole input is one CSV file, read with kpi_csv_read_buffer()
 * straight from libFuzzer's buffer (exactly `size` bytes, not
 * NUL-terminated, so a read past the end is caught by ASan), once as UTF-8
 * and once as CP949 (converted with iconv, a window at a time). The row
 * callback reads and writes every byte of every field and checks what
 * csv_reader.h promises: rows numbered 0, 1, 2 ..., every data row as wide
 * as the header, lines within the file and never going back, fields
 * NUL-terminated, within KPI_CSV_FIELD_MAX and valid UTF-8 (the whole file
 * was checked, or converted). A field "STOP" makes the callback fail, which must end the
 * read with the callback's own error.
 */
#include <string.h>

#include "csv_reader.h"
#include "fuzz.h"

struct reader_state {
    unsigned rows; /* rows seen */
    unsigned last_line;
    unsigned lines; /* lines in the input */
    size_t header_fields;
    unsigned long checksum;
    bool stopped;
};

static int on_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct reader_state *st = ctx;

    FUZZ_CHECK(row->index == st->rows);
    FUZZ_CHECK(!strcmp(row->file, "fuzz.csv"));
    FUZZ_CHECK(row->line >= 1 && row->line <= st->lines);
    FUZZ_CHECK(row->line >= st->last_line);
    FUZZ_CHECK(row->nfields >= 1 && row->nfields <= KPI_CSV_FIELDS_MAX);
    FUZZ_CHECK(row->fields != NULL);
    if (row->index == 0)
        st->header_fields = row->nfields;
    else
        FUZZ_CHECK(row->nfields == st->header_fields);
    st->last_line = row->line;
    st->rows++;

    for (size_t i = 0; i < row->nfields; i++) {
        char *f = row->fields[i];
        size_t n = strlen(f);
        FUZZ_CHECK(n <= KPI_CSV_FIELD_MAX);
        FUZZ_CHECK(fuzz_utf8_valid(f, n));
        /* Fields are writable scratch: touch every byte both ways. */
        for (size_t b = 0; b < n; b++) {
            st->checksum = st->checksum * 31 + (unsigned char)f[b];
            f[b] = (char)~f[b];
            f[b] = (char)~f[b];
        }
        if (!strcmp(f, "STOP")) {
            st->stopped = true;
            return kpi_error_set(err, KPI_EINPUT, "stopped by the callback at line %u", row->line);
        }
    }
    return 0;
}

static void read_as(const uint8_t *data, size_t size, enum kpi_encoding encoding)
{
    struct reader_state st = {.lines = 1};
    struct kpi_error err = {0};
    int rc;

    for (size_t i = 0; i < size; i++)
        st.lines += data[i] == '\n';

    rc = kpi_csv_read_buffer((const char *)data, size, "fuzz.csv", encoding, on_row, &st, &err);

    if (rc == 0) {
        FUZZ_CHECK(st.rows >= 1); /* a header at least */
        FUZZ_CHECK(!st.stopped);
        /* Nothing the reader accepts holds a NUL byte, or (read as UTF-8)
         * invalid UTF-8. */
        FUZZ_CHECK(memchr(data, '\0', size) == NULL);
        FUZZ_CHECK(encoding != KPI_ENCODING_UTF8 || fuzz_utf8_valid((const char *)data, size));
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        FUZZ_CHECK(err.message[0] != '\0');
        FUZZ_CHECK(err.line <= st.lines); /* in the file's own lines, CP949 too */
        if (st.stopped) {
            FUZZ_CHECK(rc == KPI_EINPUT);
            FUZZ_CHECK(!strncmp(err.message, "stopped by the callback", 23));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_as(data, size, KPI_ENCODING_UTF8);
    read_as(data, size, KPI_ENCODING_CP949);
    return 0;
}
