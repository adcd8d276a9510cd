#include "csv_reader.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input_file.h"
#include "text.h"

struct reader {
    const char *name;
    kpi_csv_row_fn on_row;
    void *ctx;
    struct kpi_error *err;
    int rc;              /* first failure; parsing stops once set */

    unsigned line;       /* line being fed to libcsv */
    unsigned col0;       /* characters of this line fed before the current piece */
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

/* Moves line and 1-based column (in characters) over s[0..n). */
static void advance(const char *s, size_t n, unsigned *line, unsigned *col)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

/* What check_bytes found wrong, and where: enough to word the message
 * without the file at hand. */
enum byte_problem { BYTES_OK, BYTES_NUL, BYTES_CR_ONLY, BYTES_UTF8 };
struct bytes_verdict {
    enum byte_problem problem;
    unsigned line, col; /* of the bad byte */
    unsigned char byte;
    bool cp949; /* the whole file reads as CP949 */
};

/* The one wording of every problem of check_bytes, for a file read from
 * memory or a window at a time. */
static int bytes_error(const char *name, const struct bytes_verdict *v, struct kpi_error *err)
{
    switch (v->problem) {
    case BYTES_NUL:
        return kpi_error_at(err, KPI_EINPUT, name, v->line, v->col,
                            "%s:%u:%u: NUL byte in the file", name, v->line, v->col);
    case BYTES_CR_ONLY:
        return kpi_error_at(err, KPI_EINPUT, name, 0, 0,
                            "%s: lines end in CR alone (an old Mac format); save the file "
                            "with LF or CRLF line ends, e.g. with \"tr '\\r' '\\n'\"",
                            name);
    case BYTES_UTF8:
        if (v->cp949)
            return kpi_error_at(err, KPI_EINPUT, name, v->line, v->col,
                                "%s:%u:%u: not valid UTF-8; the file looks like CP949/EUC-KR "
                                "(a Korean Excel export): convert it with "
                                "'iconv -f CP949 -t UTF-8 %s > %s.utf8'",
                                name, v->line, v->col, name, name);
        return kpi_error_at(err, KPI_EINPUT, name, v->line, v->col,
                            "%s:%u:%u: not valid UTF-8 (byte 0x%02X)", name, v->line, v->col,
                            v->byte);
    case BYTES_OK:
        break;
    }
    return 0;
}

/* A whole file in memory: a NUL first, then CR-only line ends, then the
 * first byte that is not UTF-8. */
static int check_bytes(const char *name, const char *s, size_t len, struct kpi_error *err)
{
    const char *nul = memchr(s, '\0', len);
    struct bytes_verdict v = {BYTES_OK, 1, 1, 0, false};
    size_t bad;

    if (nul) {
        v.problem = BYTES_NUL;
        advance(s, (size_t)(nul - s), &v.line, &v.col);
    } else if (memchr(s, '\r', len) && !memchr(s, '\n', len)) {
        v.problem = BYTES_CR_ONLY;
    } else if ((bad = kpi_text_utf8_invalid_at(s, len)) < len) {
        v.problem = BYTES_UTF8;
        v.byte = (unsigned char)s[bad];
        v.cp949 = kpi_text_looks_cp949(s, len);
        advance(s, bad, &v.line, &v.col);
    }
    return bytes_error(name, &v, err);
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
        r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, r->row_line, 0,
                             "%s:%u: field %zu is %zu bytes long, more than the limit of %d",
                             r->name, r->row_line, r->nfields + 1, len, KPI_CSV_FIELD_MAX);
        return;
    }
    if (r->nfields >= KPI_CSV_FIELDS_MAX) {
        r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, r->row_line, 0,
                             "%s:%u: more than %d fields in a row", r->name, r->row_line,
                             KPI_CSV_FIELDS_MAX);
        return;
    }
    if (r->buf_len + len + 1 > KPI_CSV_ROW_MAX) {
        r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, r->row_line, 0,
                             "%s:%u: the row is more than %d bytes long, the limit for a row",
                             r->name, r->row_line, KPI_CSV_ROW_MAX);
        return;
    }
    if (r->buf_len + len + 1 > r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap : 256;
        while (cap < r->buf_len + len + 1)
            cap *= 2;
        char *nb = realloc(r->buf, cap);
        if (!nb) {
            r->rc = kpi_error_at(r->err, KPI_ENOMEM, r->name, r->line, 0, "%s:%u: out of memory",
                                 r->name, r->line);
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
            r->rc = kpi_error_at(r->err, KPI_ENOMEM, r->name, r->line, 0, "%s:%u: out of memory",
                                 r->name, r->line);
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
        r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, r->row_line, 0,
                             "%s:%u: row has %zu fields, the header has %zu", r->name, r->row_line,
                             r->nfields, r->header_fields);
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

/* The end of a file: an unclosed quote, or no header at all. */
static int finish(struct reader *r, struct csv_parser *parser, const char *name,
                  struct kpi_error *err)
{
    if (!r->rc && csv_fini(parser, on_field, on_row_end, r) != 0 && !r->rc) {
        unsigned line = r->nfields ? r->row_line : r->next_row_line;
        r->rc =
            kpi_error_at(err, KPI_EINPUT, name, line, 0,
                         "%s:%u: unterminated quoted field (a '\"' is never closed)", name, line);
    }
    if (!r->rc && r->row_index == 0)
        return kpi_error_at(err, KPI_EINPUT, name, 0, 0, "%s: empty file: expected a header row",
                            name);
    return r->rc;
}

/* Feeds one line (ending in '\n', or the file's last bytes) to libcsv;
 * on malformed quoting sets r->rc with the line and column. */
/* libcsv holds a field whole before handing it over: its buffer may not
 * grow past twice the field limit, so a field of gigabytes (one line
 * without a newline) costs at most that much memory. Fields between the
 * limit and the cap are reported by on_field with their exact length. */
#define LIBCSV_BUFFER_MAX (2 * (size_t)KPI_CSV_FIELD_MAX)
static _Thread_local bool field_over_cap;

static void *capped_realloc(void *p, size_t size)
{
    if (size > LIBCSV_BUFFER_MAX) {
        field_over_cap = true;
        return NULL;
    }
    return realloc(p, size);
}

static int parser_init(struct csv_parser *parser)
{
    if (csv_init(parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return -1;
    csv_set_realloc_func(parser, capped_realloc);
    /* libcsv grows its field buffer by this much at a time: by its default
     * of 128 bytes, a 1 MiB field took 8192 reallocs, each a copy where
     * realloc moves (ASan's always does). */
    csv_set_blk_size(parser, 64 * 1024);
    return 0;
}

/* Feeds s[0..n) of the current line, which is all of it or (for a line
 * longer than a window) a piece; the line ends with the piece that ends
 * in '\n'. */
static void feed_line(struct reader *r, struct csv_parser *parser, const char *line, size_t n)
{
    size_t done;

    field_over_cap = false;
    done = csv_parse(parser, line, n, on_field, on_row_end, r);
    if (r->rc)
        return;
    if (done != n) {
        unsigned col = r->col0 + 1;
        for (size_t i = 0; i < done; i++)
            col += ((unsigned char)line[i] & 0xC0) != 0x80;
        if (csv_error(parser) == CSV_EPARSE)
            r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, r->line, col,
                                 "%s:%u:%u: malformed quoting (a quote inside an unquoted "
                                 "field, or text after a closing quote)",
                                 r->name, r->line, col);
        else if (csv_error(parser) == CSV_ENOMEM && field_over_cap) {
            unsigned row_line = r->nfields ? r->row_line : r->line;
            r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, row_line, 0,
                                 "%s:%u: field %zu is over %zu bytes long, more than the limit "
                                 "of %d",
                                 r->name, row_line, r->nfields + 1, LIBCSV_BUFFER_MAX,
                                 KPI_CSV_FIELD_MAX);
        } else
            r->rc = kpi_error_at(r->err, KPI_EINPUT, r->name, r->line, 0, "%s:%u: %s", r->name,
                                 r->line, csv_strerror(csv_error(parser)));
        return;
    }
    if (line[n - 1] == '\n') {
        r->line++;
        r->col0 = 0;
    } else {
        for (size_t i = 0; i < n; i++)
            r->col0 += ((unsigned char)line[i] & 0xC0) != 0x80;
    }
}

/* ---- files, a window at a time ------------------------------------------ */

/* A file is read a window at a time, twice (check, then parse), so a
 * large input is never held whole: a million KPIs are 180 MB of CSV. */
#define WINDOW KPI_CSV_WINDOW

struct window {
    int fd;
    size_t size;     /* of the file */
    char *buf;
    size_t cap;
};

/* Bytes [off, off + n) of the file in w->buf; 0, or -1 on a read error. */
static int window_read(struct window *w, size_t off, size_t n)
{
    if (n > w->cap) {
        char *nb = realloc(w->buf, n);
        if (!nb)
            return -1;
        w->buf = nb;
        w->cap = n;
    }
    for (size_t got = 0; got < n;) {
        ssize_t k = pread(w->fd, w->buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

/* check_bytes over the file a window at a time, with the same verdict and
 * message as over the file whole; the line and column of a bad byte are
 * counted as the windows go, and the CP949 guess is fed every window. A
 * NUL ends the scan (it is reported first); after a bad UTF-8 byte the
 * scan goes on only to look for a NUL and for LF. */
static int check_file(struct window *w, const char *name, kpi_sha256 *digest,
                      struct kpi_error *err)
{
    struct bytes_verdict v = {BYTES_OK, 1, 1, 0, false};
    struct kpi_cp949_guess cp949 = {0, false, false};
    bool has_cr = false, has_lf = false;
    unsigned line = 1, col = 1; /* of the window's first byte */

    for (size_t off = 0; off < w->size;) {
        size_t n = w->size - off < WINDOW ? w->size - off : WINDOW;
        bool last = off + n == w->size;
        /* One byte more, to end the window on a character boundary. */
        if (window_read(w, off, n + !last))
            return kpi_error_at(err, KPI_EIO, name, 0, 0, "%s: read error", name);
        const unsigned char *p = (const unsigned char *)w->buf;
        size_t end = n;
        if (!last) {
            /* Back over at most three continuation bytes to the lead byte
             * of the character cut by the window's end. Where there is no
             * such lead byte the bytes are not UTF-8 whatever the cut, and
             * the window is not shortened: a cut in the middle of a valid
             * character before them would be blamed instead. */
            size_t cut = n;
            while (cut > 1 && n - cut < 4 && (p[cut] & 0xC0) == 0x80)
                cut--;
            if ((p[cut] & 0xC0) != 0x80)
                end = cut;
        }
        const char *nul = memchr(w->buf, '\0', end);
        if (nul) {
            v.problem = BYTES_NUL;
            v.line = line;
            v.col = col;
            advance(w->buf, (size_t)(nul - w->buf), &v.line, &v.col);
            return bytes_error(name, &v, err);
        }
        if (v.problem == BYTES_OK) {
            size_t bad = kpi_text_utf8_invalid_at(w->buf, end);
            if (bad < end) {
                v.problem = BYTES_UTF8;
                v.byte = p[bad];
                v.line = line;
                v.col = col;
                advance(w->buf, bad, &v.line, &v.col);
            }
        }
        kpi_text_cp949_feed(&cp949, w->buf, end);
        if (digest) /* windows meet without overlap: each byte once, in order */
            kpi_sha256_update(digest, w->buf, end);
        has_cr = has_cr || memchr(p, '\r', end);
        has_lf = has_lf || memchr(p, '\n', end);
        advance(w->buf, end, &line, &col);
        off += end;
    }
    if (has_cr && !has_lf) {
        v.problem = BYTES_CR_ONLY;
    } else if (v.problem == BYTES_UTF8) {
        v.cp949 = kpi_text_cp949_verdict(&cp949);
    }
    return bytes_error(name, &v, err);
}

int kpi_csv_read(const char *path, const char *name, kpi_csv_row_fn on_row, void *ctx,
                 struct kpi_error *err)
{
    return kpi_csv_read_digest(path, name, on_row, ctx, NULL, NULL, err);
}

int kpi_csv_read_digest(const char *path, const char *name, kpi_csv_row_fn on_row, void *ctx,
                        kpi_sha256 *digest, uint64_t *data_rows, struct kpi_error *err)
{
    struct window w = {-1, 0, NULL, 0};
    struct reader r = {
        .name = name, .on_row = on_row, .ctx = ctx, .err = err, .line = 1, .next_row_line = 1};
    struct csv_parser parser;
    bool parser_ready = false;
    struct stat st;
    size_t pos = 0;
    int rc = 0;

    w.fd = kpi_input_open(path, name, KPI_EIO, &st, err);
    if (w.fd < 0)
        return w.fd;
    w.size = (size_t)st.st_size;
    rc = check_file(&w, name, digest, err);
    if (rc)
        goto out;
    if (parser_init(&parser) != 0) {
        rc = kpi_error_at(err, KPI_ENOMEM, name, 0, 0, "%s: out of memory", name);
        goto out;
    }
    parser_ready = true;
    if (w.size >= 3 && !window_read(&w, 0, 3) && !memcmp(w.buf, "\xEF\xBB\xBF", 3))
        pos = 3;
    /* Whole lines from each window; a line cut by the window's end is read
     * again at the start of the next, but for one longer than a window. */
    while (pos < w.size && !r.rc) {
        size_t n = w.size - pos < WINDOW ? w.size - pos : WINDOW;
        if (window_read(&w, pos, n)) {
            r.rc = kpi_error_at(err, KPI_EIO, name, 0, 0, "%s: read error", name);
            break;
        }
        size_t used = 0;
        while (used < n && !r.rc) {
            const char *nl = memchr(w.buf + used, '\n', n - used);
            if (!nl && pos + n < w.size && used > 0)
                break; /* the rest of this line is in the next window */
            /* A whole line; or, for a line longer than a window, this
             * window of it: it is fed a piece at a time, never held whole. */
            size_t len = nl ? (size_t)(nl - (w.buf + used)) + 1 : n - used;
            feed_line(&r, &parser, w.buf + used, len);
            used += len;
        }
        pos += used;
    }
    rc = finish(&r, &parser, name, err);
    if (data_rows)
        *data_rows = r.row_index ? r.row_index - 1 : 0;
out:
    if (parser_ready)
        csv_free(&parser);
    if (w.fd >= 0)
        close(w.fd);
    free(w.buf);
    free(r.buf);
    free(r.offsets);
    free(r.fields);
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
    if (parser_init(&parser) != 0) {
        rc = kpi_error_at(err, KPI_ENOMEM, name, 0, 0, "%s: out of memory", name);
        goto out;
    }
    parser_ready = true;
    /* Feed one line at a time so the callbacks know the line number. */
    while (pos < len && !r.rc) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        feed_line(&r, &parser, data + pos, n);
        pos += n;
    }
    rc = finish(&r, &parser, name, err);
out:
    if (parser_ready)
        csv_free(&parser);
    free(r.buf);
    free(r.offsets);
    free(r.fields);
    return rc;
}
