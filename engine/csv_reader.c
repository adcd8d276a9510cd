#include "csv_reader.h"

#include <assert.h>
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
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
    unsigned line, col;       /* of the bad byte */
    unsigned char byte, next; /* the first bad byte and the one after it (0: none) */
    bool cp949_pair;          /* byte and next make one CP949 double-byte character */
    bool cp949;               /* the whole file reads as CP949 */
    bool utf8_text;           /* characters of 3 or 4 bytes (Korean UTF-8 is made of
                                 them) before the first bad byte or up to the next */
    bool more_bad;            /* a bad byte after the first one's cell */
    /* Where utf8_feed is: before the first bad byte; in the rest of its cell
     * while that reads as CP949; after it, up to a second bad byte. */
    enum { SCAN_FIRST, SCAN_CELL, SCAN_REST, SCAN_DONE } scan;
    size_t skip;              /* bytes of the next piece that belong to a CP949 pair */
};

#define VERDICT_INIT {.problem = BYTES_OK, .line = 1, .col = 1}

/* A CP949 double-byte character: lead 0x81-0xFE, trail A-Z, a-z or 0x81-0xFE
 * (EUC-KR's 0xA1-0xFE pairs among them). */
static bool is_cp949_pair(unsigned char lead, unsigned char trail)
{
    return lead >= 0x81 && lead <= 0xFE &&
           ((trail >= 0x41 && trail <= 0x5A) || (trail >= 0x61 && trail <= 0x7A) ||
            (trail >= 0x81 && trail <= 0xFE));
}

/* Feeds the UTF-8 part of v one piece of the file, s[0..end), whose first
 * byte is at line:col; s[end..avail) may be read for the byte after a bad
 * one. Finds the first bad byte; when it starts a CP949 character, walks
 * the rest of its cell (to a delimiter) over CP949 characters and ASCII;
 * then looks on for a second bad byte. */
static void utf8_feed(struct bytes_verdict *v, const char *s, size_t end, size_t avail,
                      unsigned line, unsigned col)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = v->skip < end ? v->skip : end;

    v->skip -= i;
    if (v->scan == SCAN_FIRST) {
        size_t bad = kpi_text_utf8_scan(s, end, &v->utf8_text);
        if (bad == end)
            return;
        v->problem = BYTES_UTF8;
        v->byte = p[bad];
        v->next = bad + 1 < avail ? p[bad + 1] : 0;
        v->cp949_pair = is_cp949_pair(v->byte, v->next);
        v->line = line;
        v->col = col;
        advance(s, bad, &v->line, &v->col);
        v->scan = v->cp949_pair ? SCAN_CELL : SCAN_REST;
        i = v->cp949_pair ? bad : bad + 1;
    }
    while (v->scan == SCAN_CELL && i < end) {
        if (strchr(",\"\r\n", p[i]))
            v->scan = SCAN_REST;
        else if (p[i] < 0x80)
            i++;
        else if (i + 1 < avail && is_cp949_pair(p[i], p[i + 1]))
            i += 2;
        else
            v->scan = SCAN_REST;
    }
    if (i > end) {
        v->skip = i - end;
        return;
    }
    if (v->scan == SCAN_REST && kpi_text_utf8_scan(s + i, end - i, &v->utf8_text) < end - i) {
        v->more_bad = true;
        v->scan = SCAN_DONE;
    }
}

/* A byte that is not UTF-8, worded by what the rest of the file is: a file
 * of CP949 throughout can be read as CP949 (the setting), a CP949 cell in
 * a UTF-8 file must be typed again. UTF-8 text of 3-byte characters wins
 * over the guess that the file is CP949, which Korean UTF-8 can pass;
 * CP949 Hangul is seldom valid UTF-8 of 3 bytes. */
static int utf8_error(const char *name, const struct bytes_verdict *v, struct kpi_error *err)
{
    unsigned l = v->line, c = v->col;
    int rc;

    if (v->cp949_pair && v->utf8_text) {
        if (!v->more_bad)
            return kpi_error_at(err, KPI_EINPUT, name, l, c,
                                "%s:%u:%u: not valid UTF-8 (bytes 0x%02X 0x%02X): the file is "
                                "otherwise UTF-8; the cell at %u:%u holds CP949 bytes; re-type "
                                "it or save the file as UTF-8",
                                name, l, c, v->byte, v->next, l, c);
        return kpi_error_at(err, KPI_EINPUT, name, l, c,
                            "%s:%u:%u: not valid UTF-8 (bytes 0x%02X 0x%02X): the file holds "
                            "UTF-8 text, but the cell at %u:%u and more after it hold CP949 "
                            "bytes; re-type them or save the file as UTF-8",
                            name, l, c, v->byte, v->next, l, c);
    }
    if (v->cp949)
        rc = kpi_error_at(err, KPI_EINPUT, name, l, c,
                          "%s:%u:%u: not valid UTF-8; the file looks like CP949/EUC-KR (a Korean "
                          "Excel export): read it with encoding cp949, or convert it with "
                          "'iconv -f CP949 -t UTF-8 %s > %s.utf8'",
                          name, l, c, name, name);
    else if (v->cp949_pair)
        rc = kpi_error_at(err, KPI_EINPUT, name, l, c,
                          "%s:%u:%u: not valid UTF-8 (bytes 0x%02X 0x%02X, a CP949/EUC-KR "
                          "character): if the file is CP949, read it with encoding cp949; "
                          "otherwise re-type that cell",
                          name, l, c, v->byte, v->next);
    else
        return kpi_error_at(err, KPI_EINPUT, name, l, c, "%s:%u:%u: not valid UTF-8 (byte 0x%02X)",
                            name, l, c, v->byte);
    return kpi_error_setting(err, rc, KPI_SETTING_ENCODING);
}

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
        return utf8_error(name, v, err);
    case BYTES_OK:
        break;
    }
    return 0;
}

/* The error for the first NUL in s[0..n), whose first byte is at
 * line:col; 0 when there is none. */
static int find_nul(const char *name, const char *s, size_t n, unsigned line, unsigned col,
                    struct kpi_error *err)
{
    const char *nul = memchr(s, '\0', n);
    struct bytes_verdict v = VERDICT_INIT;

    if (!nul)
        return 0;
    v.problem = BYTES_NUL;
    v.line = line;
    v.col = col;
    advance(s, (size_t)(nul - s), &v.line, &v.col);
    return bytes_error(name, &v, err);
}

/* A whole file in memory: a NUL first, then CR-only line ends, then the
 * first byte that is not UTF-8. */
static int check_bytes(const char *name, const char *s, size_t len, struct kpi_error *err)
{
    struct bytes_verdict v = VERDICT_INIT;
    int rc = find_nul(name, s, len, 1, 1, err);

    if (rc)
        return rc;
    if (memchr(s, '\r', len) && !memchr(s, '\n', len)) {
        v.problem = BYTES_CR_ONLY;
    } else {
        utf8_feed(&v, s, len, len, 1, 1);
        if (v.problem == BYTES_UTF8)
            v.cp949 = kpi_text_looks_cp949(s, len);
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
        /* A row ended by a lone CR leaves the next one on the same line:
         * the quote opened on the last line at the latest (fuzz_csv). */
        if (line > r->line)
            line = r->line;
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

/* Bytes of a CP949 file read at a time, to be converted into the window. */
#define CP949_CHUNK (64u << 10)

/* The file's bytes (check_file), or its text as UTF-8 (window_fill): the
 * bytes as they are, or converted from CP949 by iconv(3) as they are read,
 * a chunk at a time, so neither pass holds more than a window of it. */
struct window {
    int fd;             /* -1: the file is data[0..size) in memory */
    const char *data;
    size_t size;        /* of the file */
    char *buf;
    size_t cap;
    size_t len;         /* text held in buf[0..len) */
    size_t text_cap;    /* what window_fill fills buf to; 0 before the first fill */
    size_t raw_pos;     /* next byte of the file to go into the text */
    char *raw;          /* CP949 bytes read but not converted yet */
    size_t raw_len;
    iconv_t cd;         /* (iconv_t)-1: UTF-8, taken as it is */
    unsigned line, col; /* CP949: where the next character converted is in the
                           file; one character of text stands for one of it */
    kpi_sha256 *digest; /* CP949: fed the file's bytes as they are read, while set */
};

#define WINDOW_INIT {-1, NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, (iconv_t)-1, 1, 1, NULL}

/* Bytes [off, off + n) of the file into dst; 0, or -1 on a read error. */
static int raw_read(const struct window *w, size_t off, char *dst, size_t n)
{
    if (w->fd < 0) {
        memcpy(dst, w->data + off, n);
        return 0;
    }
    for (size_t got = 0; got < n;) {
        ssize_t k = pread(w->fd, dst + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

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
    return raw_read(w, off, w->buf, n);
}

/* check_bytes over the file a window at a time, with the same verdict and
 * message as over the file whole; the line and column of a bad byte are
 * counted as the windows go, and the CP949 guess is fed every window. A
 * NUL ends the scan (it is reported first); after a bad UTF-8 byte the
 * scan goes on to tell a lone CP949 cell from a CP949 file, and to look
 * for a NUL and for LF. */
static int check_file(struct window *w, const char *name, kpi_sha256 *digest,
                      struct kpi_error *err)
{
    struct bytes_verdict v = VERDICT_INIT;
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
        int rc = find_nul(name, w->buf, end, line, col, err);
        if (rc)
            return rc;
        utf8_feed(&v, w->buf, end, n + !last, line, col);
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

/* The first byte of a CP949 file that iconv could not convert, at[0..left):
 * where it is, what it is and what to do. */
static int cp949_error(const char *name, const struct window *w, const char *at, size_t left,
                       struct kpi_error *err)
{
    const unsigned char *p = (const unsigned char *)at;
    int rc;

    if (left >= 2 && p[0] >= 0x81 && p[0] <= 0xFE)
        rc = kpi_error_at(err, KPI_EINPUT, name, w->line, w->col,
                          "%s:%u:%u: not valid CP949/EUC-KR (bytes 0x%02X 0x%02X): re-type "
                          "that cell, or if the file is UTF-8, read it as UTF-8",
                          name, w->line, w->col, p[0], p[1]);
    else
        rc = kpi_error_at(err, KPI_EINPUT, name, w->line, w->col,
                          "%s:%u:%u: not valid CP949/EUC-KR (byte 0x%02X%s): re-type that "
                          "cell, or if the file is UTF-8, read it as UTF-8",
                          name, w->line, w->col, p[0], left == 1 ? " at the end of the file" : "");
    return kpi_error_setting(err, rc, KPI_SETTING_ENCODING);
}

static bool window_at_end(const struct window *w)
{
    return w->raw_pos == w->size && w->raw_len == 0;
}

/* Tops the text up to text_cap bytes (less 3 at most, for CP949), or to
 * the file's end. 0, or a negative KPI_E*: KPI_EINPUT at the first byte
 * of a CP949 file that is not CP949. */
static int window_fill(struct window *w, const char *name, struct kpi_error *err)
{
    if (!w->text_cap) {
        /* CP949 is at most 1.5 times as long in UTF-8 (2 bytes to 3). */
        size_t want = w->size / 2 < WINDOW ? w->size + w->size / 2 + 8 : WINDOW;
        want = want < WINDOW ? want : WINDOW;
        if (want > w->cap) {
            char *nb = realloc(w->buf, want);
            if (!nb)
                return kpi_error_at(err, KPI_ENOMEM, name, 0, 0, "%s: out of memory", name);
            w->buf = nb;
            w->cap = want;
        }
        if (w->cd != (iconv_t)-1 && !(w->raw = malloc(CP949_CHUNK)))
            return kpi_error_at(err, KPI_ENOMEM, name, 0, 0, "%s: out of memory", name);
        w->text_cap = want;
    }
    if (w->cd == (iconv_t)-1) {
        size_t n = w->text_cap - w->len;
        n = n < w->size - w->raw_pos ? n : w->size - w->raw_pos;
        if (n && raw_read(w, w->raw_pos, w->buf + w->len, n))
            return kpi_error_at(err, KPI_EIO, name, 0, 0, "%s: read error", name);
        w->len += n;
        w->raw_pos += n;
        return 0;
    }
    /* Each round converts at least one character: the text has room for
     * one (3 bytes), and an incomplete one at the chunk's end is kept. */
    while (w->text_cap - w->len >= 4 && !window_at_end(w)) {
        size_t n = CP949_CHUNK - w->raw_len;
        n = n < w->size - w->raw_pos ? n : w->size - w->raw_pos;
        if (n && raw_read(w, w->raw_pos, w->raw + w->raw_len, n))
            return kpi_error_at(err, KPI_EIO, name, 0, 0, "%s: read error", name);
        if (w->digest)
            kpi_sha256_update(w->digest, w->raw + w->raw_len, n);
        w->raw_len += n;
        w->raw_pos += n;
        char *in = w->raw, *out = w->buf + w->len;
        size_t in_left = w->raw_len, out_left = w->text_cap - w->len;
        size_t converted = iconv(w->cd, &in, &in_left, &out, &out_left);
        int e = errno;
        advance(w->buf + w->len, (size_t)(out - (w->buf + w->len)), &w->line, &w->col);
        w->len = (size_t)(out - w->buf);
        if (converted == (size_t)-1 && e != E2BIG && (e != EINVAL || w->raw_pos == w->size))
            return cp949_error(name, w, in, in_left, err);
        bool stuck = in_left == w->raw_len && n == 0;
        memmove(w->raw, in, in_left);
        w->raw_len = in_left;
        if (stuck)
            return cp949_error(name, w, w->raw, w->raw_len, err);
    }
    return 0;
}

/* Drops the first n bytes of the text. */
static void window_consume(struct window *w, size_t n)
{
    assert(n <= w->len);
    memmove(w->buf, w->buf + n, w->len - n);
    w->len -= n;
}

/* check_file for a file converted as it is read: the conversion stops at
 * the first byte that is not CP949; the text, then, is looked at for a NUL
 * and CR-only line ends as a UTF-8 file is. Leaves w at the file's start. */
static int check_converted(struct window *w, const char *name, kpi_sha256 *digest,
                           struct kpi_error *err)
{
    struct bytes_verdict v = VERDICT_INIT;
    bool has_cr = false, has_lf = false;
    int rc;

    w->digest = digest;
    for (;;) {
        unsigned line = w->line, col = w->col; /* of the text's first byte */
        if ((rc = window_fill(w, name, err)))
            return rc;
        if (!w->len)
            break;
        if ((rc = find_nul(name, w->buf, w->len, line, col, err)))
            return rc;
        has_cr = has_cr || memchr(w->buf, '\r', w->len);
        has_lf = has_lf || memchr(w->buf, '\n', w->len);
        window_consume(w, w->len);
    }
    w->digest = NULL; /* the parse pass reads the file again */
    if (has_cr && !has_lf)
        v.problem = BYTES_CR_ONLY;
    w->raw_pos = w->raw_len = w->len = 0;
    w->line = w->col = 1;
    iconv(w->cd, NULL, NULL, NULL, NULL);
    return bytes_error(name, &v, err);
}

/* Checks and parses the file w is open on, a window at a time. */
static int read_windows(struct window *w, const char *name, enum kpi_encoding encoding,
                        kpi_csv_row_fn on_row, void *ctx, kpi_sha256 *digest,
                        uint64_t *data_rows, struct kpi_error *err)
{
    struct reader r = {
        .name = name, .on_row = on_row, .ctx = ctx, .err = err, .line = 1, .next_row_line = 1};
    struct csv_parser parser;
    bool parser_ready = false;
    int rc = 0;

    if (encoding == KPI_ENCODING_CP949 && (w->cd = iconv_open("UTF-8", "CP949")) == (iconv_t)-1) {
        rc = kpi_error_at(err, KPI_EINPUT, name, 0, 0,
                          "%s: cannot convert from CP949 on this system (%s)", name,
                          strerror(errno));
        rc = kpi_error_setting(err, rc, KPI_SETTING_ENCODING);
        goto out;
    }
    rc = w->cd == (iconv_t)-1 ? check_file(w, name, digest, err)
                              : check_converted(w, name, digest, err);
    if (rc)
        goto out;
    if (parser_init(&parser) != 0) {
        rc = kpi_error_at(err, KPI_ENOMEM, name, 0, 0, "%s: out of memory", name);
        goto out;
    }
    parser_ready = true;
    /* Whole lines from each window; a line cut by the window's end is kept
     * for the next, but for one longer than a window. */
    for (bool first = true; !r.rc; first = false) {
        if ((r.rc = window_fill(w, name, err)))
            break;
        if (first && w->cd == (iconv_t)-1 && w->len >= 3 && !memcmp(w->buf, "\xEF\xBB\xBF", 3))
            window_consume(w, 3);
        if (!w->len)
            break;
        bool more = !window_at_end(w);
        size_t used = 0;
        while (used < w->len && !r.rc) {
            const char *nl = memchr(w->buf + used, '\n', w->len - used);
            if (!nl && more && used > 0)
                break; /* the rest of this line is in the next window */
            /* A whole line; or, for a line longer than a window, this
             * window of it: it is fed a piece at a time, never held whole. */
            size_t len = nl ? (size_t)(nl - (w->buf + used)) + 1 : w->len - used;
            feed_line(&r, &parser, w->buf + used, len);
            used += len;
        }
        window_consume(w, used);
    }
    rc = finish(&r, &parser, name, err);
    if (data_rows)
        *data_rows = r.row_index ? r.row_index - 1 : 0;
out:
    if (parser_ready)
        csv_free(&parser);
    if (w->cd != (iconv_t)-1)
        iconv_close(w->cd);
    free(w->buf);
    free(w->raw);
    free(r.buf);
    free(r.offsets);
    free(r.fields);
    return rc;
}

int kpi_csv_read(const char *path, const char *name, enum kpi_encoding encoding,
                 kpi_csv_row_fn on_row, void *ctx, struct kpi_error *err)
{
    return kpi_csv_read_digest(path, name, encoding, on_row, ctx, NULL, NULL, err);
}

int kpi_csv_read_digest(const char *path, const char *name, enum kpi_encoding encoding,
                        kpi_csv_row_fn on_row, void *ctx, kpi_sha256 *digest,
                        uint64_t *data_rows, struct kpi_error *err)
{
    struct window w = WINDOW_INIT;
    struct stat st;
    int rc;

    w.fd = kpi_input_open(path, name, KPI_EIO, &st, err);
    if (w.fd < 0)
        return w.fd;
    w.size = (size_t)st.st_size;
    rc = read_windows(&w, name, encoding, on_row, ctx, digest, data_rows, err);
    close(w.fd);
    return rc;
}

int kpi_csv_read_buffer(const char *data, size_t len, const char *name,
                        enum kpi_encoding encoding, kpi_csv_row_fn on_row, void *ctx,
                        struct kpi_error *err)
{
    struct reader r = {
        .name = name, .on_row = on_row, .ctx = ctx, .err = err, .line = 1, .next_row_line = 1};
    struct csv_parser parser;
    size_t pos = 0;
    bool parser_ready = false;
    int rc;

    if (encoding != KPI_ENCODING_UTF8) {
        /* Converted a window at a time as a file is: the same text, the
         * same messages. */
        struct window w = WINDOW_INIT;
        w.data = data;
        w.size = len;
        return read_windows(&w, name, encoding, on_row, ctx, NULL, NULL, err);
    }
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
