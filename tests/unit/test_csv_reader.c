/* Unit tests of the CSV reader on small real files (docs/formats.md,
 * "Common CSV rules"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csv_reader.h"
#include "kpieval/error.h"
#include "scratch.h"

#define MAX_ROWS   16
#define MAX_FIELDS 8

/* What the reader handed to the callback, copied out. */
struct recorded {
    size_t n;
    unsigned line[MAX_ROWS];
    unsigned index[MAX_ROWS];
    size_t nfields[MAX_ROWS];
    char field[MAX_ROWS][MAX_FIELDS][64];
    const char *file[MAX_ROWS];
    int stop_at_index; /* return an error from this row; -1: never */
};

static int record_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct recorded *r = ctx;
    if (r->n == MAX_ROWS)
        return kpi_error_set(err, KPI_EINPUT, "test: too many rows");
    r->line[r->n] = row->line;
    r->index[r->n] = row->index;
    r->nfields[r->n] = row->nfields;
    r->file[r->n] = row->file;
    for (size_t f = 0; f < row->nfields && f < MAX_FIELDS; f++)
        snprintf(r->field[r->n][f], sizeof r->field[r->n][f], "%s", row->fields[f]);
    r->n++;
    if ((int)row->index == r->stop_at_index)
        return kpi_error_set(err, KPI_EINPUT, "%s:%u: stopped by the callback", row->file,
                             row->line);
    return 0;
}

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "csv_reader");
    return 0;
}

/* Writes bytes to tmp/name and reads it back in encoding, naming it `name`. */
static int read_bytes_as(const char *name, const char *bytes, size_t len,
                         enum kpi_encoding encoding, struct recorded *rec, struct kpi_error *err)
{
    char path[SCRATCH_PATH_MAX];
    memset(rec, 0, sizeof *rec);
    rec->stop_at_index = -1;
    memset(err, 0, sizeof *err);
    scratch_write_bytes(scratch_join(path, tmp, name), bytes, len);
    return kpi_csv_read(path, name, encoding, record_row, rec, err);
}

static int read_bytes(const char *name, const char *bytes, size_t len, struct recorded *rec,
                      struct kpi_error *err)
{
    return read_bytes_as(name, bytes, len, KPI_ENCODING_UTF8, rec, err);
}

#define READ(name, lit, rec, err) read_bytes(name, lit, sizeof(lit) - 1, rec, err)
#define READ_CP949(name, lit, rec, err)                                                            \
    read_bytes_as(name, lit, sizeof(lit) - 1, KPI_ENCODING_CP949, rec, err)

/* Korean words in CP949 and in UTF-8, from the code tables: 경제 is U+ACBD
 * U+C81C, KS X 1001 B0E6 C1A6; 갂 (U+AC02) is 8141, a CP949 extension
 * that EUC-KR lacks. */
#define GYEONGJE_CP949 "\xB0\xE6\xC1\xA6"
#define GYEONGJE_UTF8  "\xEA\xB2\xBD\xEC\xA0\x9C"
#define GAK_CP949      "\x81\x41"
#define GAK_UTF8       "\xEA\xB0\x82"

static void test_csv_reader_plain_rows(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("plain.csv", "a,b,c\n1,2,3\nx,y,z\n", &rec, &err), 0);
    assert_int_equal(rec.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(rec.index[i], i);
        assert_int_equal(rec.line[i], i + 1);
        assert_int_equal(rec.nfields[i], 3);
        assert_string_equal(rec.file[i], "plain.csv");
    }
    assert_string_equal(rec.field[0][0], "a");
    assert_string_equal(rec.field[1][1], "2");
    assert_string_equal(rec.field[2][2], "z");
}

static void test_csv_reader_last_line_without_newline(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("nonl.csv", "a,b\n1,2", &rec, &err), 0);
    assert_int_equal(rec.n, 2);
    assert_string_equal(rec.field[1][1], "2");
}

static void test_csv_reader_skips_bom(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("bom.csv", "\xEF\xBB\xBFid,name\nK1,x\n", &rec, &err), 0);
    assert_int_equal(rec.n, 2);
    assert_string_equal(rec.field[0][0], "id"); /* not "\xEF\xBB\xBFid" */
    assert_int_equal(rec.line[0], 1);
    assert_int_equal(rec.line[1], 2);
}

static void test_csv_reader_crlf(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("crlf.csv", "a,b\r\n1,2\r\n3,4\r\n", &rec, &err), 0);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.field[0][1], "b"); /* no stray '\r' */
    assert_string_equal(rec.field[1][1], "2");
    assert_string_equal(rec.field[2][1], "4");
    assert_int_equal(rec.line[2], 3);
}

static void test_csv_reader_trims_spaces_around_unquoted_fields(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("spaces.csv", " a , b \n 1 ,\" 2 \"\n", &rec, &err), 0);
    assert_string_equal(rec.field[0][0], "a");
    assert_string_equal(rec.field[0][1], "b");
    assert_string_equal(rec.field[1][0], "1");
    assert_string_equal(rec.field[1][1], " 2 "); /* quoted: kept as written */
}

static void test_csv_reader_quoted_fields_and_start_lines(void **state)
{
    /* line 1: header
     * line 2-3: a row whose second field holds a line break
     * line 4: plain
     * line 5-7: a row whose first field holds two line breaks
     * line 8: a doubled quote
     * line 9: plain */
    static const char text[] = "a,b\n"
                               "\"x,y\",\"multi\nline\"\n"
                               "3,4\n"
                               "\"p\n\nq\",5\n"
                               "\"say \"\"hi\"\"\",6\n"
                               "7,8\n";
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("quoted.csv", text, &rec, &err), 0);
    assert_int_equal(rec.n, 6);
    assert_int_equal(rec.line[0], 1);
    assert_int_equal(rec.line[1], 2);
    assert_int_equal(rec.line[2], 4);
    assert_int_equal(rec.line[3], 5);
    assert_int_equal(rec.line[4], 8);
    assert_int_equal(rec.line[5], 9);
    assert_string_equal(rec.field[1][0], "x,y");
    assert_string_equal(rec.field[1][1], "multi\nline");
    assert_string_equal(rec.field[3][0], "p\n\nq");
    assert_string_equal(rec.field[4][0], "say \"hi\"");
    assert_int_equal(rec.nfields[1], 2);
}

static void test_csv_reader_quoted_crlf_line_numbers(void **state)
{
    /* line 1 header; lines 2-3 one row with CRLF inside the quotes; line 4. */
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("qcrlf.csv", "a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n", &rec, &err), 0);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.line[1], 2);
    assert_int_equal(rec.line[2], 4);
}

static void test_csv_reader_skips_blank_lines(void **state)
{
    /* Lines: 1 header, 2 blank, 3 row, 4 blank, 5 blank (CRLF), 6 row, 7 blank. */
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("blank.csv", "a,b\n\n1,2\n\n\r\n3,4\n\n", &rec, &err), 0);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.line[1], 3);
    assert_int_equal(rec.line[2], 6);
    assert_int_equal(rec.index[2], 2); /* blank lines do not take an index */
    assert_string_equal(rec.field[2][0], "3");

    /* With a one-column header too: lines 1 header, 2 blank, 3 row. */
    assert_int_equal(READ("blank1.csv", "a\n\n1\n\n", &rec, &err), 0);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.line[1], 3);
    assert_string_equal(rec.field[1][0], "1");
}

static void test_csv_reader_ragged_row_names_its_line(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* Line 3 holds one field where the header has two. */
    assert_int_equal(READ("ragged.csv", "a,b\n1,2\n3\n4,5\n", &rec, &err), KPI_EINPUT);
    assert_int_equal(err.code, KPI_EINPUT);
    assert_starts_with(err.message, "ragged.csv:3:");
    /* Reading stopped: the row after it was never handed over. */
    assert_int_equal(rec.n, 2);

    /* Too many fields is ragged too. */
    assert_int_equal(READ("ragged2.csv", "a,b\n1,2,3\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "ragged2.csv:2:");
}

static void test_csv_reader_ragged_row_after_multiline_row(void **state)
{
    /* Lines 2-3 are one good row; the ragged row starts on line 4, and a
     * ragged row that itself spans lines 5-6 would start on 5. */
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ("ragged3.csv", "a,b\n\"x\ny\",2\n3\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "ragged3.csv:4:");

    assert_int_equal(READ("ragged4.csv", "a,b\n1,2\n\"p\nq\"\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "ragged4.csv:3:");
}

static void test_csv_reader_unterminated_quote(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* The quote opens on line 2 in the second field and is never closed. */
    assert_int_equal(READ("unterm.csv", "a,b\n1,\"abc\n2,3\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "unterm.csv:2:");
    assert_contains(err.message, "unterminated");

    /* The same, opened in the first field of line 3. */
    assert_int_equal(READ("unterm2.csv", "a,b\n1,2\n\"abc,4\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "unterm2.csv:3:");
    assert_contains(err.message, "unterminated");
}

static void test_csv_reader_rejects_nul_byte(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* The NUL is on line 2, column 3. */
    assert_int_equal(READ("nul.csv", "a,b\n1,\0\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "nul.csv:2:");
    assert_contains(err.message, "NUL");
    /* The whole file is checked before any row is handed over. */
    assert_int_equal(rec.n, 0);
}

/* The place is in the error's fields too, not only at the message's start. */
static void test_csv_reader_error_fields_name_the_place(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* A byte: file, line and column. */
    assert_int_equal(READ("place.csv", "a,b\n1,\0\n", &rec, &err), KPI_EINPUT);
    assert_string_equal(err.file, "place.csv");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 3);
    assert_string_equal(err.kpi, "");
    assert_null(err.setting);
    /* A quote in the middle of an unquoted field, line 3 column 4. */
    assert_int_equal(READ("quote.csv", "a,b\n1,2\n3,x\"y\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "quote.csv:3:4:");
    assert_string_equal(err.file, "quote.csv");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 4);
    /* A row: its line, no column. */
    assert_int_equal(READ("rows.csv", "a,b\n1,2\n3\n", &rec, &err), KPI_EINPUT);
    assert_string_equal(err.file, "rows.csv");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 0);
    /* A whole file: no line. */
    assert_int_equal(READ("none.csv", "", &rec, &err), KPI_EINPUT);
    assert_string_equal(err.file, "none.csv");
    assert_int_equal(err.line, 0);
}

static void test_csv_reader_invalid_utf8_hints_cp949(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* "경제" in CP949 is B0 E6 C1 A6, on line 2. */
    assert_int_equal(READ("cp949.csv", "id,name\nK1,\xB0\xE6\xC1\xA6\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "cp949.csv:2:");
    assert_contains(err.message, "UTF-8");
    assert_contains(err.message, "CP949");
    assert_contains(err.message, "iconv -f CP949 -t UTF-8");
    assert_int_equal(rec.n, 0);
}

static void test_csv_reader_invalid_utf8_without_cp949_look(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* A lone 0xFF on line 3 is neither UTF-8 nor CP949. */
    assert_int_equal(READ("bad.csv", "a\nok\n\xFF\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "bad.csv:3:");
    assert_contains(err.message, "UTF-8");
    assert_not_contains(err.message, "iconv");
}

static void test_csv_reader_empty_file(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(read_bytes("empty.csv", "", 0, &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "empty.csv");
    assert_int_equal(rec.n, 0);
    /* Only a BOM, or only blank lines, is empty too. */
    assert_int_equal(READ("bomonly.csv", "\xEF\xBB\xBF", &rec, &err), KPI_EINPUT);
    assert_int_equal(READ("blankonly.csv", "\n\n\r\n", &rec, &err), KPI_EINPUT);
    assert_int_equal(rec.n, 0);
}

static void test_csv_reader_missing_file_is_io_error(void **state)
{
    struct recorded rec = {.stop_at_index = -1};
    struct kpi_error err = {0};
    char path[SCRATCH_PATH_MAX];
    (void)state;
    scratch_join(path, tmp, "does-not-exist.csv");
    assert_int_equal(
        kpi_csv_read(path, "does-not-exist.csv", KPI_ENCODING_UTF8, record_row, &rec, &err),
        KPI_EIO);
    assert_contains(err.message, "does-not-exist.csv");
    /* A folder is not a CSV file either. */
    assert_int_not_equal(kpi_csv_read(tmp, "folder", KPI_ENCODING_UTF8, record_row, &rec, &err),
                         0);
}

static void test_csv_reader_callback_error_stops_reading(void **state)
{
    char path[SCRATCH_PATH_MAX];
    struct recorded rec = {.stop_at_index = 1};
    struct kpi_error err = {0};
    (void)state;
    scratch_write(scratch_join(path, tmp, "stop.csv"), "a\n1\n2\n3\n");
    assert_int_equal(kpi_csv_read(path, "stop.csv", KPI_ENCODING_UTF8, record_row, &rec, &err),
                     KPI_EINPUT);
    assert_string_equal(err.message, "stop.csv:2: stopped by the callback");
    assert_int_equal(rec.n, 2); /* header and row 1, nothing after */
}

/* ---- files larger than the reader's window ------------------------------ */

/* A digest of every row handed over: line, index and every field. */
static int digest_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    unsigned long long *h = ctx;
    (void)err;
    *h = (*h ^ row->line) * 1099511628211ULL;
    *h = (*h ^ row->index) * 1099511628211ULL;
    for (size_t f = 0; f < row->nfields; f++) {
        for (const unsigned char *p = (const unsigned char *)row->fields[f]; *p; p++)
            *h = (*h ^ *p) * 1099511628211ULL;
        *h = (*h ^ 0x1F) * 1099511628211ULL;
    }
    return 0;
}

/* About 13 MB: Korean text, quoted commas, quotes and line breaks inside
 * fields, CRLF and LF lines, and one 5 MB line, so rows, multi-byte
 * characters and quoted line breaks fall across the reader's 4 MB windows
 * in many places. */
static char *big_csv(size_t *len)
{
    size_t cap = 16u << 20, o = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    o += (size_t)sprintf(s + o, "id,name,note\n");
    for (unsigned i = 0; o < cap - (6u << 20) - 4096; i++) {
        switch (i % 5) {
        case 0: o += (size_t)sprintf(s + o, "K%u,경제정책과 %u,plain\n", i, i); break;
        case 1: o += (size_t)sprintf(s + o, "K%u,\"a, b \"\"q\"\"\",x\r\n", i); break;
        case 2: o += (size_t)sprintf(s + o, "K%u,\"two\nlines 가나다\",y\n", i); break;
        case 3: o += (size_t)sprintf(s + o, "K%u,\"three\r\nline\nbreaks\",\"\"\n", i); break;
        default: o += (size_t)sprintf(s + o, "K%u,%s,z\n", i, "일자리정책담당관"); break;
        }
        if (i == 200000) { /* a row longer than the window, quoted */
            o += (size_t)sprintf(s + o, "LONG,\"");
            for (size_t k = 0; k < (5u << 20) / 3; k++, o += 3)
                memcpy(s + o, "한", 3);
            o += (size_t)sprintf(s + o, "\",end\n");
        }
    }
    *len = o;
    return s;
}

/* Reads data in encoding as the file tmp/name and from memory: both must
 * return want_rc, hand over the same rows and word any error the same.
 * Returns the error message (in err) and the rows' digest. */
static unsigned long long read_both_ways_as(const char *name, const char *data, size_t len,
                                            enum kpi_encoding encoding, int want_rc,
                                            struct kpi_error *err)
{
    char path[SCRATCH_PATH_MAX], msg_file[KPI_ERROR_MESSAGE_MAX];
    unsigned long long from_file = 1469598103934665603ULL, from_memory = from_file;

    scratch_write_bytes(scratch_join(path, tmp, name), data, len);
    memset(err, 0, sizeof *err);
    assert_int_equal(kpi_csv_read(path, name, encoding, digest_row, &from_file, err), want_rc);
    snprintf(msg_file, sizeof msg_file, "%s", err->message);
    memset(err, 0, sizeof *err);
    assert_int_equal(
        kpi_csv_read_buffer(data, len, name, encoding, digest_row, &from_memory, err), want_rc);
    assert_string_equal(msg_file, err->message);
    assert_true(from_file == from_memory);
    return from_file;
}

static void read_both_ways(const char *name, const char *data, size_t len, int want_rc,
                           struct kpi_error *err)
{
    read_both_ways_as(name, data, len, KPI_ENCODING_UTF8, want_rc, err);
}

static void test_csv_reader_file_windows_match_memory(void **state)
{
    struct kpi_error err;
    size_t len;
    char *data = big_csv(&len);
    (void)state;

    /* The long field is over KPI_CSV_FIELD_MAX: both stop at the same place. */
    read_both_ways("big.csv", data, len, KPI_EINPUT, &err);
    assert_true(strstr(err.message, "more than the limit") != NULL);
    free(data);
}

static void test_csv_reader_file_windows_match_memory_clean(void **state)
{
    struct kpi_error err;
    size_t len;
    char *data = big_csv(&len);
    (void)state;

    /* Cut the long field below the limit: the whole file reads. */
    char *longrow = strstr(data, "LONG,\"");
    assert_non_null(longrow);
    memmove(longrow + 6 + 900000, longrow + 6 + (5u << 20) / 3 * 3,
            len - (size_t)(longrow + 6 + (5u << 20) / 3 * 3 - data));
    len -= (5u << 20) / 3 * 3 - 900000;
    read_both_ways("big2.csv", data, len, 0, &err);

    /* A bad byte just past the first window: the same message either way. */
    data[(4u << 20) + 1] = (char)0xFF;
    read_both_ways("big2.csv", data, len, KPI_EINPUT, &err);
    assert_true(strstr(err.message, "not valid UTF-8") != NULL);
    free(data);
}

/* Errors worded from the window at hand read exactly as over the whole
 * file: a NUL beyond a bad UTF-8 byte still comes first, a CP949 file is
 * recognised across windows, CR-only line ends are seen at the end. */
static void test_csv_reader_file_windows_word_errors_like_memory(void **state)
{
    const size_t len = (9u << 20) + 7;
    char *data = malloc(len);
    struct kpi_error err;
    (void)state;
    assert_non_null(data);

    /* CP949 rows ("경제" is B0 E6 C1 A6), lines of 8 bytes across 3 windows. */
    memcpy(data, "id,name\n", 8);
    for (size_t o = 8; o + 8 <= len; o += 8)
        memcpy(data + o, "K,\xB0\xE6\xC1\xA6x\n", 8);
    memset(data + len - len % 8, 'y', len % 8);
    read_both_ways("cp949-big.csv", data, len, KPI_EINPUT, &err);
    assert_true(strstr(err.message, "cp949-big.csv:2:3: not valid UTF-8; the file looks like "
                                    "CP949") == err.message);

    /* A lone 0xFF on line 2, a NUL in the third window: the NUL is named. */
    data[10] = (char)0xFF;
    /* Line k starts at byte 8 (k - 1): byte 8 (2^20 + 3) + 1 is line 2^20 + 4, column 2. */
    data[(8u << 20) + 8 * 3 + 1] = '\0';
    read_both_ways("nul-late.csv", data, len, KPI_EINPUT, &err);
    assert_string_equal(err.message, "nul-late.csv:1048580:2: NUL byte in the file");

    /* Only CR line ends, over several windows. */
    memset(data, 'a', len);
    for (size_t o = 5; o < len; o += 40)
        data[o] = '\r';
    read_both_ways("cr-big.csv", data, len, KPI_EINPUT, &err);
    assert_true(strstr(err.message, "CR alone") != NULL);
    free(data);
}

/* A stray continuation byte right after a valid character at a window's
 * end: the window is not cut inside that character, and the stray byte is
 * the one named (found by a red-team pass: 가 was blamed). */
static void test_csv_reader_file_window_end_blames_the_bad_byte(void **state)
{
    const size_t len = KPI_CSV_WINDOW + 4096;
    char *data = malloc(len);
    struct kpi_error err;
    (void)state;
    assert_non_null(data);
    memcpy(data, "id,name\n", 8);
    for (size_t o = 8; o < len; o++)
        data[o] = (o % 64 == 63) ? '\n' : 'a';
    /* 가 (EA B0 80), a stray 80, then 82 98 across the window's end. */
    memcpy(data + KPI_CSV_WINDOW - 5, "\xEA\xB0\x80\x80\x82\x98", 6);
    read_both_ways("window-end.csv", data, len, KPI_EINPUT, &err);
    assert_non_null(strstr(err.message, "(byte 0x80)"));
    free(data);
}

/* A line of 20 MiB without a newline is fed a window at a time and libcsv
 * may not hold a field past twice the limit: refused with the same
 * message from a file and from memory (it was read whole, and held). A
 * row of many fields under the field limit is bounded by the row limit. */
static void test_csv_reader_huge_line_and_row_are_bounded(void **state)
{
    const size_t len = 20u << 20;
    char *data = malloc(len);
    struct kpi_error err;
    (void)state;
    assert_non_null(data);
    memcpy(data, "id,name\nK1,", 11);
    memset(data + 11, '1', len - 11);
    read_both_ways("huge-line.csv", data, len, KPI_EINPUT, &err);
    assert_string_equal(err.message, "huge-line.csv:2: field 2 is over 2097152 bytes long, more "
                                     "than the limit of 1048576");

    /* 12 fields of 900,000 bytes: 10.8 MB in one row. */
    size_t o = 0;
    for (int i = 0; i < 12; i++)
        o += (size_t)sprintf(data + o, "%sc%d", i ? "," : "", i);
    data[o++] = '\n';
    for (int i = 0; i < 12; i++) {
        if (i)
            data[o++] = ',';
        memset(data + o, 'y', 900000);
        o += 900000;
    }
    data[o++] = '\n';
    read_both_ways("huge-row.csv", data, o, KPI_EINPUT, &err);
    assert_string_equal(err.message, "huge-row.csv:2: the row is more than 8388608 bytes long, "
                                     "the limit for a row");
    free(data);
}

/* ---- CP949 ---------------------------------------------------------------- */

static void test_csv_reader_cp949_rows_are_utf8(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    assert_int_equal(READ_CP949("k.csv", "id,name\nK1," GYEONGJE_CP949 "\r\nK2,\"" GAK_CP949
                                         ",\n" GAK_CP949 "\"\n",
                                &rec, &err),
                     0);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.field[1][1], GYEONGJE_UTF8);
    assert_string_equal(rec.field[2][1], GAK_UTF8 ",\n" GAK_UTF8);
    assert_int_equal(rec.line[2], 3);
}

/* A byte that is not CP949 is named by the file's own line and column (in
 * characters, a double-byte character being one), before any row. */
static void test_csv_reader_cp949_bad_byte_names_the_place(void **state)
{
    struct recorded rec;
    struct kpi_error err;
    (void)state;
    /* K 1 , 경 제 x: the 0xFF is the 7th character of line 2. */
    assert_int_equal(READ_CP949("bad.csv", "id,name\nK1," GYEONGJE_CP949 "x\xFF\n", &rec, &err),
                     KPI_EINPUT);
    assert_string_equal(err.message, "bad.csv:2:7: not valid CP949/EUC-KR (byte 0xFF): re-type "
                                     "that cell, or if the file is UTF-8, read it as UTF-8");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 7);
    assert_string_equal(err.setting, KPI_SETTING_ENCODING);
    assert_int_equal(rec.n, 0);

    /* A lead byte without its trail byte, inside the file and at its end. */
    assert_int_equal(READ_CP949("trail.csv", "id\n\xB0 x\n", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message, "trail.csv:2:1: not valid CP949/EUC-KR (bytes 0xB0 0x20)");
    assert_int_equal(READ_CP949("cut.csv", "id\nK\xB0", &rec, &err), KPI_EINPUT);
    assert_starts_with(err.message,
                       "cut.csv:2:2: not valid CP949/EUC-KR (byte 0xB0 at the end of the file)");

    /* The checks of a UTF-8 file hold for the converted text. */
    assert_int_equal(READ_CP949("nul.csv", "id\n" GYEONGJE_CP949 "\0\n", &rec, &err),
                     KPI_EINPUT);
    assert_string_equal(err.message, "nul.csv:2:3: NUL byte in the file");
    assert_int_equal(READ_CP949("cr.csv", "id\r" GYEONGJE_CP949 "\r", &rec, &err), KPI_EINPUT);
    assert_contains(err.message, "CR alone");
}

/* About 14 MB of CP949 over 64 KiB chunks and 4 MiB windows, made beside
 * its UTF-8 twin from the words' code tables: read as CP949 it hands over
 * exactly the rows of the twin read as UTF-8, and a bad byte deep inside
 * is named by line and column. Rows are "K%07u," (9 characters), 1 to 7
 * times 경제 (2 characters each), then ",x". */
#define TWIN_ROWS 500000
static char *twin_csv(bool cp949, size_t *len)
{
    size_t cap = (size_t)TWIN_ROWS * 60, o = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    o += (size_t)sprintf(s + o, "id,name,note\n");
    for (unsigned r = 0; r < TWIN_ROWS; r++) {
        o += (size_t)sprintf(s + o, "K%07u,", r);
        for (unsigned w = 0; w < r % 7 + 1; w++)
            o += (size_t)sprintf(s + o, "%s", cp949 ? GYEONGJE_CP949 : GYEONGJE_UTF8);
        o += (size_t)sprintf(s + o, ",x\n");
    }
    *len = o;
    return s;
}

static void test_csv_reader_cp949_windows_match_utf8_twin(void **state)
{
    struct kpi_error err;
    size_t len949, len8;
    char *cp949 = twin_csv(true, &len949), *utf8 = twin_csv(false, &len8);
    (void)state;

    assert_true(len8 > 3 * KPI_CSV_WINDOW);
    unsigned long long want = read_both_ways_as("twin8.csv", utf8, len8, KPI_ENCODING_UTF8, 0, &err);
    unsigned long long got =
        read_both_ways_as("twin949.csv", cp949, len949, KPI_ENCODING_CP949, 0, &err);
    assert_true(want == got);

    /* The 'x' of row 400000 (line 400002) made 0xFF: 400000 % 7 = 6, so 7
     * words of 4 bytes and 2 characters: column 9 + 7 * 2 + 1 + 1 = 25. */
    char *row = strstr(cp949, "K0400000,");
    assert_non_null(row);
    assert_int_equal(row[9 + 7 * 4 + 1], 'x');
    row[9 + 7 * 4 + 1] = (char)0xFF;
    read_both_ways_as("twin949-bad.csv", cp949, len949, KPI_ENCODING_CP949, KPI_EINPUT, &err);
    assert_starts_with(err.message, "twin949-bad.csv:400002:25: not valid CP949/EUC-KR (byte "
                                    "0xFF)");
    free(cp949);
    free(utf8);
}

/* A UTF-8 file with CP949 bytes in a cell: the option would not help, the
 * cell must be fixed; the message says so and where. A file of CP949
 * throughout is told to be read as CP949. */
static void test_csv_reader_cp949_cell_in_utf8_file(void **state)
{
    struct kpi_error err;
    (void)state;
#define BOTH(name, lit, err) read_both_ways(name, lit, sizeof(lit) - 1, KPI_EINPUT, err)
    BOTH("mixed.csv", "id,name\nK1," GYEONGJE_UTF8 "\nK2," GYEONGJE_CP949 "\n", &err);
    assert_string_equal(err.message,
                        "mixed.csv:3:4: not valid UTF-8 (bytes 0xB0 0xE6): the file is otherwise "
                        "UTF-8; the cell at 3:4 holds CP949 bytes; re-type it or save the file as "
                        "UTF-8");
    assert_null(err.setting);

    /* The UTF-8 text may come after the cell. */
    BOTH("after.csv", "id,name\nK2,a" GYEONGJE_CP949 "\nK1," GYEONGJE_UTF8 "\n", &err);
    assert_starts_with(err.message, "after.csv:2:5: not valid UTF-8 (bytes 0xB0 0xE6): the file "
                                    "is otherwise UTF-8; the cell at 2:5");

    /* More than one such cell. */
    BOTH("cells.csv",
         "id,name\nK1," GYEONGJE_UTF8 "\nK2," GYEONGJE_CP949 "\nK3," GYEONGJE_CP949 "\n", &err);
    assert_string_equal(err.message, "cells.csv:3:4: not valid UTF-8 (bytes 0xB0 0xE6): the file "
                                     "holds UTF-8 text, but the cell at 3:4 and more after it "
                                     "hold CP949 bytes; re-type them or save the file as UTF-8");

    /* No UTF-8 text but ASCII: the whole file reads as CP949. */
    BOTH("ascii.csv", "id,name\nK1,abc\nK2," GYEONGJE_CP949 "\n", &err);
    assert_contains(err.message, "the file looks like CP949/EUC-KR");
    assert_contains(err.message, "read it with encoding cp949");
    assert_string_equal(err.setting, KPI_SETTING_ENCODING);

    /* A CP949 character, but the file is not CP949 either (a lone 0xFF). */
    BOTH("neither.csv", "id\n" GYEONGJE_CP949 "\n\xFF\n", &err);
    assert_string_equal(err.message, "neither.csv:2:1: not valid UTF-8 (bytes 0xB0 0xE6, a "
                                     "CP949/EUC-KR character): if the file is CP949, read it "
                                     "with encoding cp949; otherwise re-type that cell");
    assert_string_equal(err.setting, KPI_SETTING_ENCODING);
#undef BOTH
}

/* The CP949 pair of a cell across the check's window end: its trail byte
 * is in the next window and is not taken for a second bad byte. */
static void test_csv_reader_cp949_cell_across_window_end(void **state)
{
    const size_t len = KPI_CSV_WINDOW + 4096;
    char *data = malloc(len);
    struct kpi_error err;
    (void)state;
    assert_non_null(data);
    /* Lines of 64 bytes from byte 17, line 3 on: byte 2^22 - 1 is on line
     * 3 + (2^22 - 1 - 17) / 64 = 65538, column (2^22 - 1 - 17) % 64 + 1 = 47. */
    memcpy(data, "id,name\nK," GYEONGJE_UTF8 "\n", 17);
    for (size_t o = 17; o < len; o++)
        data[o] = (o - 17) % 64 == 63 ? '\n' : '1'; /* '1' is no CP949 trail byte */
    memcpy(data + KPI_CSV_WINDOW - 1, "\xB0\xE6", 2);
    read_both_ways("across.csv", data, len, KPI_EINPUT, &err);
    assert_string_equal(err.message, "across.csv:65538:47: not valid UTF-8 (bytes 0xB0 0xE6): the "
                                     "file is otherwise UTF-8; the cell at 65538:47 holds CP949 "
                                     "bytes; re-type it or save the file as UTF-8");
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_reader_plain_rows),
        cmocka_unit_test(test_csv_reader_last_line_without_newline),
        cmocka_unit_test(test_csv_reader_skips_bom),
        cmocka_unit_test(test_csv_reader_crlf),
        cmocka_unit_test(test_csv_reader_trims_spaces_around_unquoted_fields),
        cmocka_unit_test(test_csv_reader_quoted_fields_and_start_lines),
        cmocka_unit_test(test_csv_reader_quoted_crlf_line_numbers),
        cmocka_unit_test(test_csv_reader_skips_blank_lines),
        cmocka_unit_test(test_csv_reader_ragged_row_names_its_line),
        cmocka_unit_test(test_csv_reader_ragged_row_after_multiline_row),
        cmocka_unit_test(test_csv_reader_unterminated_quote),
        cmocka_unit_test(test_csv_reader_rejects_nul_byte),
        cmocka_unit_test(test_csv_reader_error_fields_name_the_place),
        cmocka_unit_test(test_csv_reader_invalid_utf8_hints_cp949),
        cmocka_unit_test(test_csv_reader_invalid_utf8_without_cp949_look),
        cmocka_unit_test(test_csv_reader_empty_file),
        cmocka_unit_test(test_csv_reader_missing_file_is_io_error),
        cmocka_unit_test(test_csv_reader_callback_error_stops_reading),
        cmocka_unit_test(test_csv_reader_file_windows_match_memory),
        cmocka_unit_test(test_csv_reader_file_windows_match_memory_clean),
        cmocka_unit_test(test_csv_reader_file_windows_word_errors_like_memory),
        cmocka_unit_test(test_csv_reader_file_window_end_blames_the_bad_byte),
        cmocka_unit_test(test_csv_reader_huge_line_and_row_are_bounded),
        cmocka_unit_test(test_csv_reader_cp949_rows_are_utf8),
        cmocka_unit_test(test_csv_reader_cp949_bad_byte_names_the_place),
        cmocka_unit_test(test_csv_reader_cp949_windows_match_utf8_twin),
        cmocka_unit_test(test_csv_reader_cp949_cell_in_utf8_file),
        cmocka_unit_test(test_csv_reader_cp949_cell_across_window_end),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
