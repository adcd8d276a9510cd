#include "csv_reader.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text.h"

struct reader {
    const char *name;
    kpi_csv_row_fn on_row;
    void *ctx;
    struct kpi_error *err;
    int rc;              /* first failure; parsing stops once set */

    unsigned line;       /* line being fed to libcsv */
    unsigned row_line;   /* line where the current row started */
    unsigned row_index;
    unsigned next_row_line; /* first line after the last completed row */
    size_t header_fields;

    char *buf;           /* the current row's fields, NUL-separated */
    size_t buf_len, buf_cap;
    size_t *offsets;     /* start of each field in buf */
    char **fields;
    size_t nfields, fields_cap;
};

static int read_whole_file(const char *path, const char *name, char **out, size_t *out_len,
                           struct kpi_error *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *data = NULL;
    size_t len;
    int rc = KPI_EIO;

    if (!f)
        return kpi_error_set(err, KPI_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        kpi_error_set(err, KPI_EIO, "%s: not a regular file", name);
        goto out;
    }
    len = (size_t)st.st_size;
    data = malloc(len + 1);
    if (!data) {
        rc = kpi_error_set(err, KPI_ENOMEM, "%s: out of memory reading %zu bytes", name, len);
        goto out;
    }
    if (len && fread(data, 1, len, f) != len) {
        kpi_error_set(err, KPI_EIO, "%s: read error", name);
        goto out;
    }
    data[len] = '\0';
    *out = data;
    *out_len = len;
    data = NULL;
    rc = 0;
out:
    free(data);
    fclose(f);
    return rc;
}

/* Line and 1-based column (in characters) of byte offset `at`. */
static void locate(const char *s, size_t at, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < at; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static int check_bytes(const char *name, const char *s, size_t len, struct kpi_error *err)
{
    const char *nul = memchr(s, '\0', len);
    size_t bad;
    unsigned line, col;

    if (nul) {
        locate(s, (size_t)(nul - s), &line, &col);
        return kpi_error_set(err, KPI_EINPUT, "%s:%u:%u: NUL byte in the file", name, line, col);
    }
    if (memchr(s, '\r', len) && !memchr(s, '\n', len))
        return kpi_error_set(err, KPI_EINPUT,
                             "%s: lines end in CR alone (an old Mac format); save the file "
                             "with LF or CRLF line ends, e.g. with \"tr '\\r' '\\n'\"",
                             name);
    bad = kpi_text_utf8_invalid_at(s, len);
    if (bad < len) {
        locate(s, bad, &line, &col);
        if (kpi_text_looks_cp949(s, len))
            return kpi_error_set(err, KPI_EINPUT,
                                 "%s:%u:%u: not valid UTF-8; the file looks like CP949/EUC-KR "
                                 "(a Korean Excel export): convert it with "
                                 "'iconv -f CP949 -t UTF-8 %s > %s.utf8'",
                                 name, line, col, name, name);
        return kpi_error_set(err, KPI_EINPUT, "%s:%u:%u: not valid UTF-8 (byte 0x%02X)", name,
                             line, col, (unsigned char)s[bad]);
    }
    return 0;
}

static void on_field(void *data, size_t len, void *ctx)
{
    struct reader *r = ctx;

    if (r->rc)
        return;
    if (r->nfields == 0) {
        unsigned newlines = 0;
        for (size_t i = 0; i < len; i++)
            newlines += ((const char *)data)[i] == '\n';
        r->row_line = r->line - newlines;
        r->buf_len = 0;
    }
    if (len > KPI_CSV_FIELD_MAX) {
        r->rc = kpi_error_set(r->err, KPI_EINPUT,
                              "%s:%u: field %zu is %zu bytes long, more than the limit of %d",
                              r->name, r->row_line, r->nfields + 1, len, KPI_CSV_FIELD_MAX);
        return;
    }
    if (r->nfields >= KPI_CSV_FIELDS_MAX) {
        r->rc = kpi_error_set(r->err, KPI_EINPUT, "%s:%u: more than %d fields in a row", r->name,
                              r->row_line, KPI_CSV_FIELDS_MAX);
        return;
    }
    if (r->buf_len + len + 1 > r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap : 256;
        while (cap < r->buf_len + len + 1)
            cap *= 2;
        char *nb = realloc(r->buf, cap);
        if (!nb) {
            r->rc = kpi_error_set(r->err, KPI_ENOMEM, "%s:%u: out of memory", r->name, r->line);
            return;
        }
        r->buf = nb;
        r->buf_cap = cap;
    }
    if (r->nfields == r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        size_t *no = realloc(r->offsets, cap * sizeof *no);
        if (no)
            r->offsets = no;
        char **nf = no ? realloc(r->fields, cap * sizeof *nf) : NULL;
        if (!nf) {
            r->rc = kpi_error_set(r->err, KPI_ENOMEM, "%s:%u: out of memory", r->name, r->line);
            return;
        }
        r->fields = nf;
        r->fields_cap = cap;
    }
    if (len)
        memcpy(r->buf + r->buf_len, data, len);
    r->buf[r->buf_len + len] = '\0';
    r->offsets[r->nfields++] = r->buf_len;
    r->buf_len += len + 1;
}

static void on_row_end(int c, void *ctx)
{
    struct reader *r = ctx;
    struct kpi_csv_row row;

    (void)c;
    if (r->rc || r->nfields == 0)
        return;
    r->next_row_line = r->line + 1;
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i] = r->buf + r->offsets[i];
    /* A line holding only spaces reads as one empty field: a blank line. */
    if (r->nfields == 1 && r->fields[0][0] == '\0' && r->header_fields != 1) {
        r->nfields = 0;
        return;
    }
    if (r->row_index == 0) {
        r->header_fields = r->nfields;
    } else if (r->nfields != r->header_fields) {
        r->rc = kpi_error_set(r->err, KPI_EINPUT, "%s:%u: row has %zu fields, the header has %zu",
                              r->name, r->row_line, r->nfields, r->header_fields);
        return;
    }
    row.file = r->name;
    row.line = r->row_line;
    row.index = r->row_index++;
    row.nfields = r->nfields;
    row.fields = r->fields;
    r->nfields = 0;
    r->rc = r->on_row(r->ctx, &row, r->err);
}

int kpi_csv_read(const char *path, const char *name, kpi_csv_row_fn on_row, void *ctx,
                 struct kpi_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = read_whole_file(path, name, &data, &len, err);
    if (!rc)
        rc = kpi_csv_read_buffer(data, len, name, on_row, ctx, err);
    free(data);
    return rc;
}

int kpi_csv_read_buffer(const char *data, size_t len, const char *name, kpi_csv_row_fn on_row,
                        void *ctx, struct kpi_error *err)
{
    struct reader r = {
        .name = name, .on_row = on_row, .ctx = ctx, .err = err, .line = 1, .next_row_line = 1};
    struct csv_parser parser;
    size_t pos = 0;
    bool parser_ready = false;
    int rc;

    rc = check_bytes(name, data, len, err);
    if (rc)
        goto out;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        pos = 3;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        rc = kpi_error_set(err, KPI_ENOMEM, "%s: out of memory", name);
        goto out;
    }
    parser_ready = true;
    /* Feed one line at a time so the callbacks know the line number. */
    while (pos < len && !r.rc) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        size_t done = csv_parse(&parser, data + pos, n, on_field, on_row_end, &r);
        if (r.rc)
            break;
        if (done != n) {
            unsigned line, col;
            locate(data, pos + done, &line, &col);
            if (csv_error(&parser) == CSV_EPARSE)
                r.rc = kpi_error_set(err, KPI_EINPUT,
                                     "%s:%u:%u: malformed quoting (a quote inside an unquoted "
                                     "field, or text after a closing quote)",
                                     name, line, col);
            else
                r.rc = kpi_error_set(err, KPI_EINPUT, "%s:%u: %s", name, line,
                                     csv_strerror(csv_error(&parser)));
            break;
        }
        pos += n;
        if (nl)
            r.line++;
    }
    if (!r.rc && csv_fini(&parser, on_field, on_row_end, &r) != 0 && !r.rc) {
        r.rc = kpi_error_set(err, KPI_EINPUT,
                             "%s:%u: unterminated quoted field (a '\"' is never closed)", name,
                             r.nfields ? r.row_line : r.next_row_line);
    }
    rc = r.rc;
    if (!rc && r.row_index == 0)
        rc = kpi_error_set(err, KPI_EINPUT, "%s: empty file: expected a header row", name);
out:
    if (parser_ready)
        csv_free(&parser);
    free(r.buf);
    free(r.offsets);
    free(r.fields);
    return rc;
}
