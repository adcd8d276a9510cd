/* Unit tests of the text rules: UTF-8, CP949 guess, names, numbers and the
 * two number formats of the reports (docs/formats.md, "Numbers" and
 * "Outputs"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scratch.h"
#include "text.h"

/* ---- UTF-8 --------------------------------------------------------------- */

struct utf8_case {
    const char *bytes;
    size_t len;
    size_t invalid_at; /* == len when valid */
    const char *why;
};

#define UTF8(lit, at, why)                                                                         \
    {                                                                                              \
        lit, sizeof(lit) - 1, at, why                                                              \
    }
#define UTF8_OK(lit, why)                                                                          \
    {                                                                                              \
        lit, sizeof(lit) - 1, sizeof(lit) - 1, why                                                 \
    }

static void check_utf8_cases(const struct utf8_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t got = kpi_text_utf8_invalid_at(cases[i].bytes, cases[i].len);
        if (got != cases[i].invalid_at)
            fail_msg("%s: invalid_at = %zu, expected %zu", cases[i].why, got, cases[i].invalid_at);
    }
}

static void test_text_utf8_accepts_valid_text(void **state)
{
    static const struct utf8_case cases[] = {
        UTF8_OK("", "empty"),
        UTF8_OK("id,name\n", "ASCII"),
        UTF8_OK("\xC2\x80", "U+0080, smallest 2-byte"),
        UTF8_OK("\xDF\xBF", "U+07FF, largest 2-byte"),
        UTF8_OK("\xE0\xA0\x80", "U+0800, smallest 3-byte"),
        UTF8_OK("경제정책과", "Hangul"),
        UTF8_OK("\xED\x9F\xBF", "U+D7FF, just below the surrogates"),
        UTF8_OK("\xEE\x80\x80", "U+E000, just above the surrogates"),
        UTF8_OK("\xEF\xBB\xBF", "BOM"),
        UTF8_OK("\xF0\x90\x80\x80", "U+10000, smallest 4-byte"),
        UTF8_OK("\xF0\x9F\x98\x80", "emoji"),
        UTF8_OK("\xF4\x8F\xBF\xBF", "U+10FFFF, the largest code point"),
    };
    (void)state;
    check_utf8_cases(cases, sizeof cases / sizeof cases[0]);
    /* A NUL is ASCII as far as UTF-8 goes (the CSV reader rejects it). */
    assert_int_equal(kpi_text_utf8_invalid_at("a\0b", 3), 3);
}

static void test_text_utf8_rejects_overlong_forms(void **state)
{
    static const struct utf8_case cases[] = {
        UTF8("\xC0\xAF", 0, "'/' as 2 bytes"),
        UTF8("\xC1\xBF", 0, "U+007F as 2 bytes"),
        UTF8("\xE0\x80\xAF", 0, "'/' as 3 bytes"),
        UTF8("\xE0\x9F\xBF", 0, "U+07FF as 3 bytes"),
        UTF8("\xF0\x80\x80\xAF", 0, "'/' as 4 bytes"),
        UTF8("\xF0\x8F\xBF\xBF", 0, "U+FFFF as 4 bytes"),
        UTF8("ab\xC0\x80", 2, "NUL as 2 bytes after ASCII"),
    };
    (void)state;
    check_utf8_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_text_utf8_rejects_surrogates_and_beyond(void **state)
{
    static const struct utf8_case cases[] = {
        UTF8("\xED\xA0\x80", 0, "U+D800, first high surrogate"),
        UTF8("\xED\xAF\xBF", 0, "U+DBFF"),
        UTF8("\xED\xB0\x80", 0, "U+DC00, first low surrogate"),
        UTF8("\xED\xBF\xBF", 0, "U+DFFF, last surrogate"),
        UTF8("x\xED\xA0\x80\xED\xB0\x80", 1, "a CESU-8 surrogate pair"),
        UTF8("\xF4\x90\x80\x80", 0, "U+110000"),
        UTF8("\xF5\x80\x80\x80", 0, "lead byte 0xF5"),
        UTF8("\xFE", 0, "0xFE"),
        UTF8("\xFF", 0, "0xFF"),
        UTF8("abc\x80", 3, "lone continuation byte"),
        UTF8("\xBF", 0, "lone continuation byte 0xBF"),
    };
    (void)state;
    check_utf8_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_text_utf8_rejects_truncated_sequences(void **state)
{
    static const struct utf8_case cases[] = {
        UTF8("\xEA", 0, "lead byte alone"),
        UTF8("ab\xEA\xB2", 2, "3-byte sequence cut at the end"),
        UTF8("\xEA\xB2"
             "A",
             0, "3-byte sequence cut by ASCII"),
        UTF8("\xC2", 0, "2-byte lead alone"),
        UTF8("\xF0\x9F\x98", 0, "4-byte sequence missing one byte"),
        UTF8("경\xEC\xA0", 3, "second syllable cut"),
    };
    (void)state;
    check_utf8_cases(cases, sizeof cases / sizeof cases[0]);
    /* The bytes after len are not read: "경" cut to 2 bytes by len. */
    assert_int_equal(kpi_text_utf8_invalid_at("\xEA\xB2\xBD", 2), 0);
}

/* ---- CP949 ---------------------------------------------------------------- */

static void test_text_cp949_detects_korean_excel_bytes(void **state)
{
    /* Bytes from `printf '서울시 경제정책과' | iconv -f UTF-8 -t CP949`. */
    static const char seoul[] = "\xBC\xAD\xBF\xEF\xBD\xC3 \xB0\xE6\xC1\xA6\xC1\xA4\xC3\xA5\xB0\xFA";
    /* "경제" is B0 E6 C1 A6 in CP949, inside an ordinary CSV row. */
    static const char row[] = "KPI-1,\xB0\xE6\xC1\xA6,10\n";
    (void)state;
    assert_true(kpi_text_looks_cp949(seoul, sizeof seoul - 1));
    assert_true(kpi_text_looks_cp949(row, sizeof row - 1));
    /* Sanity: these bytes are indeed not UTF-8. */
    assert_true(kpi_text_utf8_invalid_at(seoul, sizeof seoul - 1) < sizeof seoul - 1);
}

static void test_text_cp949_rejects_other_bytes(void **state)
{
    (void)state;
    assert_false(kpi_text_looks_cp949("", 0));
    assert_false(kpi_text_looks_cp949("plain ascii,1,2\n", 16)); /* no double bytes */
    assert_false(kpi_text_looks_cp949("caf\xE9", 4));            /* Latin-1, lead at end */
    assert_false(kpi_text_looks_cp949("\xB0"
                                      "1",
                                      2));                 /* trail byte below 0x41 */
    assert_false(kpi_text_looks_cp949("\xB0\n", 2));       /* lead then newline */
    assert_false(kpi_text_looks_cp949("\xFF\xFE", 2));     /* 0xFF is never a lead */
    assert_false(kpi_text_looks_cp949("\x80\x41", 2));     /* 0x80 is never a lead */
    assert_false(kpi_text_looks_cp949("\xB0\xE6\xB0", 3)); /* last pair cut */
}

/* ---- names and ids -------------------------------------------------------- */

static void test_text_lua_names(void **state)
{
    static const char *const good[] = {"employed", "_x",   "x1",        "A_b_9", "_",
                                       "And",      "ends", "nil_count", "gotox", "Function"};
    static const char *const bad[] = {"", "1x", "a-b", "a b", "a.b", "é", "경제", "x\n", " x"};
    /* All 22 Lua 5.4 keywords. */
    static const char *const keywords[] = {
        "and",      "break",  "do",   "else", "elseif", "end",   "false", "for",
        "function", "goto",   "if",   "in",   "local",  "nil",   "not",   "or",
        "repeat",   "return", "then", "true", "until",  "while",
    };
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!kpi_text_is_lua_name(good[i]))
            fail_msg("'%s' should be a Lua name", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (kpi_text_is_lua_name(bad[i]))
            fail_msg("'%s' should not be a Lua name", bad[i]);
    }
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (kpi_text_is_lua_name(keywords[i]))
            fail_msg("keyword '%s' should not be a Lua name", keywords[i]);
    }
    assert_false(kpi_text_is_lua_name(NULL));
}

static void test_text_kpi_ids(void **state)
{
    static const char *const good[] = {"KPI-3", "a.b_c-1", "0", "-", "x.y.z", "ABC_def"};
    static const char *const bad[] = {"", "a b", "a/b", "경제", "a,b", "KPI-3 ", "a:b", "a\tb"};
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!kpi_text_is_kpi_id(good[i]))
            fail_msg("'%s' should be a KPI id", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (kpi_text_is_kpi_id(bad[i]))
            fail_msg("'%s' should not be a KPI id", bad[i]);
    }
    assert_false(kpi_text_is_kpi_id(NULL));
}

/* ---- visible text --------------------------------------------------------- */

struct visible_case {
    const char *text;
    const char *visible;
    const char *why;
};

static void test_text_visible_escapes_controls(void **state)
{
    static const struct visible_case cases[] = {
        {"", "", "empty"},
        {"plain text, \"quoted\" and \\x1b", "plain text, \"quoted\" and \\x1b",
         "printable ASCII and the backslash kept"},
        {"경제정책과 \xF0\x9F\x98\x80", "경제정책과 \xF0\x9F\x98\x80", "Hangul and an emoji kept"},
        {"\x1b]0;owned\x07", "\\x1b]0;owned\\x07", "ESC and BEL: a terminal title"},
        {"a\nkpieval: ok\r", "a\\x0akpieval: ok\\x0d", "LF and CR: no line of its own"},
        {"a\tb\x01\x1f", "a\\x09b\\x01\\x1f", "tab and the other C0 controls"},
        {"del\x7f", "del\\x7f", "DEL"},
        {"\xC2\x80 \xC2\x9B[2J \xC2\x9F", "\\x80 \\x9b[2J \\x9f", "C1 controls by code point"},
        {"\xC2\xA0\xC2\xA9", "\xC2\xA0\xC2\xA9", "U+00A0 and U+00A9, just above C1, kept"},
        {"ds\xff\xfe", "ds\\xff\\xfe", "bytes that are never UTF-8"},
        {"\x9b\x80", "\\x9b\\x80", "a raw C1 byte and a stray continuation byte"},
        {"\xC0\xAF \xED\xA0\x80", "\\xc0\\xaf \\xed\\xa0\\x80", "overlong form, surrogate"},
        {"cut \xEA\xB0", "cut \\xea\\xb0", "a character cut short"},
        {"\xEA\xB0\x1b", "\\xea\\xb0\\x1b", "a cut character then a control"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[128];
        size_t need = kpi_text_visible(cases[i].text, out, sizeof out);
        if (strcmp(out, cases[i].visible) || need != strlen(cases[i].visible))
            fail_msg("%s: got '%s' (%zu), expected '%s'", cases[i].why, out, need,
                     cases[i].visible);
        /* The result is valid UTF-8 and is its own visible form. */
        assert_int_equal(kpi_text_utf8_invalid_at(out, strlen(out)), strlen(out));
        assert_int_equal(kpi_text_visible_span(out, strlen(out)), strlen(out));
    }
}

static void test_text_visible_span_and_escape(void **state)
{
    static const char text[] = "ok \xC2\x9B!";
    char esc[KPI_VISIBLE_ESCAPE_BUF];
    (void)state;
    assert_int_equal(kpi_text_visible_span(text, sizeof text - 1), 3);
    assert_int_equal(kpi_text_visible_escape(text + 3, sizeof text - 4, esc), 2);
    assert_string_equal(esc, "\\x9b");
    /* A lone C2 at the end is a byte, not a C1 control. */
    assert_int_equal(kpi_text_visible_span("\xC2", 1), 0);
    assert_int_equal(kpi_text_visible_escape("\xC2", 1, esc), 1);
    assert_string_equal(esc, "\\xc2");
    /* The span stops at len, not at a NUL. */
    assert_int_equal(kpi_text_visible_span("ab\0cd", 5), 2);
}

static void test_text_visible_cuts_at_whole_characters(void **state)
{
    char out[8];
    (void)state;
    /* Like snprintf: the whole length back, and a NULL buffer of size 0. */
    assert_int_equal(kpi_text_visible("a\x1b", NULL, 0), 5);
    assert_int_equal(kpi_text_visible("abcdefghij", out, sizeof out), 10);
    assert_string_equal(out, "abcdefg");
    /* "가" is 3 bytes: "ab가가" needs 8, so the second is left out whole. */
    assert_int_equal(kpi_text_visible("ab가가", out, sizeof out), 8);
    assert_string_equal(out, "ab가");
    /* An escape that does not fit is left out whole. */
    assert_int_equal(kpi_text_visible("abcde\x1b", out, sizeof out), 9);
    assert_string_equal(out, "abcde");
    assert_int_equal(kpi_text_visible("abc\x1b", out, sizeof out), 7);
    assert_string_equal(out, "abc\\x1b");
    assert_int_equal(kpi_text_visible("x", out, 1), 1);
    assert_string_equal(out, "");
}

/* ---- number parsing ------------------------------------------------------- */

struct number_case {
    const char *text;
    enum kpi_number_problem problem;
    double value; /* when OK */
};

static void test_text_parse_number_accepts_plain_numbers(void **state)
{
    static const struct number_case cases[] = {
        {"3000", KPI_NUMBER_OK, 3000},
        {"-2.5", KPI_NUMBER_OK, -2.5},
        {"65.0", KPI_NUMBER_OK, 65},
        {"1e3", KPI_NUMBER_OK, 1000},
        {"1E3", KPI_NUMBER_OK, 1000},
        {"2.5e-1", KPI_NUMBER_OK, 0.25},
        {".5", KPI_NUMBER_OK, 0.5},
        {" 42 ", KPI_NUMBER_OK, 42},
        {"   7", KPI_NUMBER_OK, 7},
        {"0", KPI_NUMBER_OK, 0},
        {"1.7976931348623157e308", KPI_NUMBER_OK, DBL_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -12345;
        enum kpi_number_problem p = kpi_text_parse_number(cases[i].text, &v);
        if (p != KPI_NUMBER_OK || v != cases[i].value)
            fail_msg("'%s': problem %d value %.17g, expected ok %.17g", cases[i].text, (int)p, v,
                     cases[i].value);
    }
}

static void test_text_parse_number_long_plain_decimal(void **state)
{
    /* "0." then 149 zeros then "1" is 10^-150: a plain decimal well inside
     * a double's range, however many characters it takes. */
    char text[200];
    double v = 0;
    (void)state;
    memcpy(text, "0.", 2);
    memset(text + 2, '0', 149);
    memcpy(text + 151, "1", 2);
    assert_int_equal(kpi_text_parse_number(text, &v), KPI_NUMBER_OK);
    assert_near(v, 1e-150, 1e-165);
    /* 130 significant digits: 1111...1 (130 ones) is about 1.1e129. */
    memset(text, '1', 130);
    text[130] = '\0';
    assert_int_equal(kpi_text_parse_number(text, &v), KPI_NUMBER_OK);
    assert_near(v / 1.1111111111111111e129, 1, 1e-15);
}

static void test_text_parse_number_rejects_with_the_right_problem(void **state)
{
    static const struct number_case cases[] = {
        {"12a", KPI_NUMBER_SYNTAX, 0},
        {"1.2.3", KPI_NUMBER_SYNTAX, 0},
        {"abc", KPI_NUMBER_SYNTAX, 0},
        {"0x10", KPI_NUMBER_SYNTAX, 0}, /* hexadecimal is not accepted */
        {"1e", KPI_NUMBER_SYNTAX, 0},
        {"e5", KPI_NUMBER_SYNTAX, 0},
        {"-", KPI_NUMBER_SYNTAX, 0},
        {".", KPI_NUMBER_SYNTAX, 0},
        {"4 2", KPI_NUMBER_SYNTAX, 0},
        {"", KPI_NUMBER_EMPTY, 0},
        {"   ", KPI_NUMBER_EMPTY, 0},
        {"nan", KPI_NUMBER_NONFINITE, 0},
        {"NaN", KPI_NUMBER_NONFINITE, 0},
        {"inf", KPI_NUMBER_NONFINITE, 0},
        {"-inf", KPI_NUMBER_NONFINITE, 0},
        {"infinity", KPI_NUMBER_NONFINITE, 0},
        {"1e400", KPI_NUMBER_RANGE, 0},
        {"-1e400", KPI_NUMBER_RANGE, 0},
        {"3,000", KPI_NUMBER_THOUSANDS, 0},
        {"1,234,567.5", KPI_NUMBER_THOUSANDS, 0},
        {" 3,000 ", KPI_NUMBER_THOUSANDS, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = 7.25;
        enum kpi_number_problem p = kpi_text_parse_number(cases[i].text, &v);
        if (p != cases[i].problem)
            fail_msg("'%s': problem %d, expected %d", cases[i].text, (int)p, (int)cases[i].problem);
        if (v != 7.25)
            fail_msg("'%s': *out changed on failure", cases[i].text);
    }
    /* "12,5" (a European decimal comma) is no number, whatever the reason. */
    double v = 0;
    assert_int_not_equal(kpi_text_parse_number("12,5", &v), KPI_NUMBER_OK);
}

static void test_text_number_problem_phrases(void **state)
{
    (void)state;
    /* The thousands hint tells the user to drop the separator. */
    assert_contains(kpi_text_number_problem(KPI_NUMBER_THOUSANDS), "separator");
    assert_contains(kpi_text_number_problem(KPI_NUMBER_EMPTY), "empty");
    /* Every problem has its own phrase. */
    for (int a = KPI_NUMBER_EMPTY; a <= KPI_NUMBER_RANGE; a++) {
        for (int b = a + 1; b <= KPI_NUMBER_RANGE; b++)
            assert_string_not_equal(kpi_text_number_problem((enum kpi_number_problem)a),
                                    kpi_text_number_problem((enum kpi_number_problem)b));
    }
}

/* ---- formats -------------------------------------------------------------- */

static void test_text_format_number_shortest_15_digits(void **state)
{
    char buf[KPI_NUMBER_BUF];
    (void)state;
    assert_string_equal(kpi_text_format_number(65, buf), "65");
    assert_string_equal(kpi_text_format_number(0.5, buf), "0.5");
    assert_string_equal(kpi_text_format_number(3000, buf), "3000");
    assert_string_equal(kpi_text_format_number(-2.5, buf), "-2.5");
    assert_string_equal(kpi_text_format_number(0, buf), "0");
    /* -0 is written as 0. */
    assert_string_equal(kpi_text_format_number(-0.0, buf), "0");
    /* 65.84992343032159 has 16 digits; at 15 the last kept digit 5 is
     * followed by 9, so it rounds up: 65.8499234303216. */
    assert_string_equal(kpi_text_format_number(65.84992343032159, buf), "65.8499234303216");
    /* 0.1 + 0.2 = 0.30000000000000004: zero at 15 digits, so "0.3". */
    assert_string_equal(kpi_text_format_number(0.1 + 0.2, buf), "0.3");
    /* 1/3: fifteen 3s. */
    assert_string_equal(kpi_text_format_number(1.0 / 3.0, buf), "0.333333333333333");
}

struct rate_case {
    double x;
    const char *text;
    const char *why;
};

static void test_text_format_rate_half_away_from_zero(void **state)
{
    static const struct rate_case cases[] = {
        /* The double nearest 1.005 is 1.00499999999999989...; at 15
         * significant digits it is 1.00500000000000, so half rounds up. */
        {1.005, "1.01", "1.005"},
        /* 2.675 is stored as 2.67499999999999982...; 15 digits: 2.675. */
        {2.675, "2.68", "2.675"},
        {-1.005, "-1.01", "half away from zero for negatives"},
        {0.004, "0.00", "below half a cent"},
        {-0.004, "0.00", "a negative that rounds to zero has no sign"},
        /* 99.995 -> 9999.5 hundredths -> 10000 -> 100.00 (a carry through). */
        {99.995, "100.00", "carry into a new digit"},
        {-99.995, "-100.00", "carry, negative"},
        {0.005, "0.01", "half of the last place"},
        /* 1e20 has 21 integer digits: 1 then 20 zeros. */
        {1e20, "100000000000000000000.00", "large"},
        {120, "120.00", "the default cap"},
        {0, "0.00", "zero"},
        {-0.0, "0.00", "negative zero"},
        {0.5, "0.50", "one decimal"},
        {65.84992343032159, "65.85", "65.849... -> 65.85"},
        {12.344999, "12.34", "below half"},
        {1e-20, "0.00", "tiny"},
        /* 15 significant digits 123456789012.345 -> .345 rounds to .35. */
        {123456789012.345, "123456789012.35", "12 integer digits"},
        /* 1234567890123456789 at 15 digits is 123456789012346 x 10^4. */
        {1234567890123456789.0, "1234567890123460000.00", "beyond 15 digits"},
    };
    char buf[KPI_RATE_BUF];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kpi_text_format_rate(cases[i].x, buf);
        if (strcmp(buf, cases[i].text))
            fail_msg("%s: %.17g -> \"%s\", expected \"%s\"", cases[i].why, cases[i].x, buf,
                     cases[i].text);
    }
}

static void test_text_format_exact_round_trips(void **state)
{
    static const double values[] = {
        0.1,    0.1 + 0.2, 1.0 / 3.0, 65.84992343032159,  2.675,      -2.5, 1e-300,
        5e-324, DBL_MAX,   -DBL_MAX,  9007199254740993.0, 123456.789, 1e20, 3000,
    };
    char buf[KPI_NUMBER_BUF];
    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        kpi_text_format_exact(values[i], buf);
        if (strtod(buf, NULL) != values[i])
            fail_msg("%.17g -> \"%s\" does not read back", values[i], buf);
    }
    /* Shortest: no more digits than needed. */
    assert_string_equal(kpi_text_format_exact(0.1, buf), "0.1");
    assert_string_equal(kpi_text_format_exact(65, buf), "65");
    assert_string_equal(kpi_text_format_exact(-0.0, buf), "0");
    /* 0.1 + 0.2 needs all 17 digits: 0.30000000000000004. */
    assert_string_equal(kpi_text_format_exact(0.1 + 0.2, buf), "0.30000000000000004");
    /* The double 1/3 is 0.333333333333333314...; 16 threes are within half
     * a unit in the last place (2.8e-17), 15 are not. */
    assert_string_equal(kpi_text_format_exact(1.0 / 3.0, buf), "0.3333333333333333");
}

/* ---- formats against their printf definitions ------------------------------
 *
 * text.c writes the three formats with its own integer arithmetic; their
 * definition is what printf writes. The reference forms below are that
 * definition, as text.c had it before the fast path: every byte must match.
 */

static char *ref_format_number(double x, char buf[KPI_NUMBER_BUF])
{
    if (x == 0)
        x = 0;
    snprintf(buf, KPI_NUMBER_BUF, "%.15g", x);
    return buf;
}

static char *ref_format_exact(double x, char buf[KPI_NUMBER_BUF])
{
    if (x == 0)
        x = 0;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, KPI_NUMBER_BUF, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

/* 2 decimals, half away from zero on the 15 digits of "%.14e". */
static char *ref_format_rate(double x, char buf[KPI_RATE_BUF])
{
    char sci[40];
    char digits[KPI_RATE_BUF];
    int exp10, keep, n = 0, carry;
    bool negative = x < 0;
    size_t o = 0;

    if (!isfinite(x)) {
        buf[0] = '\0';
        return buf;
    }
    snprintf(sci, sizeof sci, "%.14e", fabs(x));
    exp10 = (int)strtol(strchr(sci, 'e') + 1, NULL, 10);
    keep = exp10 + 3;
    if (keep > (int)sizeof digits - 8)
        keep = (int)sizeof digits - 8;
    for (int i = 0; i < keep; i++) {
        int src = i == 0 ? 0 : i + 1;
        digits[n++] = i < 15 ? sci[src] : '0';
    }
    carry = 0;
    if (keep >= 0 && keep < 15) {
        int src = keep == 0 ? 0 : keep + 1;
        carry = sci[src] >= '5';
    }
    for (int i = n - 1; i >= 0 && carry; i--) {
        if (digits[i] == '9') {
            digits[i] = '0';
        } else {
            digits[i]++;
            carry = 0;
        }
    }
    if (carry) {
        memmove(digits + 1, digits, (size_t)n);
        digits[0] = '1';
        n++;
    }
    while (n < 3) {
        memmove(digits + 1, digits, (size_t)n);
        digits[0] = '0';
        n++;
    }
    bool all_zero = true;
    for (int i = 0; i < n; i++)
        all_zero = all_zero && digits[i] == '0';
    if (negative && !all_zero)
        buf[o++] = '-';
    memcpy(buf + o, digits, (size_t)(n - 2));
    o += (size_t)(n - 2);
    buf[o++] = '.';
    buf[o++] = digits[n - 2];
    buf[o++] = digits[n - 1];
    buf[o] = '\0';
    return buf;
}

/* Fails unless all three formats write x as the reference forms do. */
static void check_formats_match_printf(double x)
{
    char want[KPI_RATE_BUF], got[KPI_RATE_BUF];

    ref_format_number(x, want);
    kpi_text_format_number(x, got);
    if (strcmp(want, got))
        fail_msg("format_number(%a = %.17g): \"%s\", printf writes \"%s\"", x, x, got, want);
    ref_format_exact(x, want);
    kpi_text_format_exact(x, got);
    if (strcmp(want, got))
        fail_msg("format_exact(%a = %.17g): \"%s\", printf writes \"%s\"", x, x, got, want);
    ref_format_rate(x, want);
    kpi_text_format_rate(x, got);
    if (strcmp(want, got))
        fail_msg("format_rate(%a = %.17g): \"%s\", printf writes \"%s\"", x, x, got, want);
}

struct format_case {
    double x;
    const char *number, *exact, *rate;
};

static void test_text_format_edge_cases(void **state)
{
    static const struct format_case cases[] = {
        /* 1.005 is stored as 1.00499999999999989...: at 15 digits that is
         * 1.00500000000000, which reads back, and the rate rounds 100.5
         * cents away from zero. */
        {1.005, "1.005", "1.005", "1.01"},
        /* 0.125 is exact in binary: 12.5 cents round up. */
        {0.125, "0.125", "0.125", "0.13"},
        /* 2.675 is stored as 2.67499999999999982...: 15 digits 2.675. */
        {2.675, "2.675", "2.675", "2.68"},
        /* 10^15 has 16 digits: past 15, %g switches to e-notation. */
        {1e15, "1e+15", "1e+15", "1000000000000000.00"},
        /* 999999999999999.5 is exact (the gap there is 1/8). Its 15th digit
         * is followed by exactly 5: half to even rounds the odd 9 up to
         * 10^15, which reads back as 1e15, so exact needs 16 digits; the
         * rate sees the 15 digits 1.00000000000000e15. */
        {999999999999999.5, "1e+15", "999999999999999.5", "1000000000000000.00"},
        /* 0.1 + 0.2 = 0.3000000000000000444...: 16 digits still give 0.3. */
        {0.1 + 0.2, "0.3", "0.30000000000000004", "0.30"},
        /* 2^-1074 = 4.940656458412465441...e-324: the 16th digit 5 is
         * followed by 44..., so up; any of (2.47e-324, 7.41e-324) reads
         * back as it. */
        {5e-324, "4.94065645841247e-324", "4.94065645841247e-324", "0.00"},
        {-0.0, "0", "0", "0.00"},
        /* 10^21 = 2^21 * 5^21 is exact. */
        {1e21, "1e+21", "1e+21", "1000000000000000000000.00"},
        /* The gap at 1.2e17 is 16: the double is 123456789012345680.
         * 15 digits ...346e17 are 320 away and 16 digits ...3457e17 are 20
         * away, more than 8; 17 digits ...34568e17 are exact. */
        {123456789012345678.0, "1.23456789012346e+17", "1.2345678901234568e+17",
         "123456789012346000.00"},
        /* Integers below 2^53 are exact. Halfway at 15 digits, the last kept
         * digit goes to even: 5 up to 6, and 6 stays. */
        {1234567890123455.0, "1.23456789012346e+15", "1234567890123455", "1234567890123460.00"},
        {1234567890123465.0, "1.23456789012346e+15", "1234567890123465", "1234567890123460.00"},
        {123456789012345.0, "123456789012345", "123456789012345", "123456789012345.00"},
        /* 1e-7 is below 10^-4: e-notation with a 2-digit exponent. */
        {1e-7, "1e-07", "1e-07", "0.00"},
        {0.0001, "0.0001", "0.0001", "0.00"},
        {-0.00001, "-1e-05", "-1e-05", "0.00"},
        {-2150, "-2150", "-2150", "-2150.00"},
        {-0.005, "-0.005", "-0.005", "-0.01"},
        /* DBL_MAX = 1.7976931348623157081e308; 15 and 16 digits round past
         * it by more than half the gap of 2^971 (about 2e292). */
        {DBL_MAX, "1.79769313486232e+308", "1.7976931348623157e+308", NULL},
        /* 1.125899906842624e38 = 5^23 * 2^73 lies exactly halfway between
         * the doubles (5^23 - 1) * 2^73 and (5^23 + 1) * 2^73, and reads
         * back as the first, whose mantissa (5^23 - 1) / 2 is even. */
        {112589990684262390555267034260709572608.0, "1.12589990684262e+38", "1.125899906842624e+38",
         "112589990684262000000000000000000000000.00"},
        {112589990684262409444732965739290427392.0, "1.12589990684262e+38",
         "1.1258999068426241e+38", "112589990684262000000000000000000000000.00"},
    };
    char buf[KPI_RATE_BUF], want_rate[KPI_RATE_BUF];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct format_case *c = &cases[i];
        if (strcmp(kpi_text_format_number(c->x, buf), c->number))
            fail_msg("format_number(%.17g) = \"%s\", expected \"%s\"", c->x, buf, c->number);
        if (strcmp(kpi_text_format_exact(c->x, buf), c->exact))
            fail_msg("format_exact(%.17g) = \"%s\", expected \"%s\"", c->x, buf, c->exact);
        if (c->rate && strcmp(kpi_text_format_rate(c->x, buf), c->rate))
            fail_msg("format_rate(%.17g) = \"%s\", expected \"%s\"", c->x, buf, c->rate);
        check_formats_match_printf(c->x);
        check_formats_match_printf(-c->x);
    }
    /* DBL_MAX in hundredths: the 15 digits, then 309 - 15 zeros, ".00". */
    memcpy(want_rate, "179769313486232", 15);
    memset(want_rate + 15, '0', 294);
    memcpy(want_rate + 309, ".00", 4);
    assert_string_equal(kpi_text_format_rate(DBL_MAX, buf), want_rate);
    assert_string_equal(kpi_text_format_rate(-DBL_MAX, buf) + 1, want_rate);

    /* Not finite: what printf writes, and an empty rate. */
    assert_string_equal(kpi_text_format_number(INFINITY, buf), "inf");
    assert_string_equal(kpi_text_format_number(-INFINITY, buf), "-inf");
    assert_string_equal(kpi_text_format_exact(INFINITY, buf), "inf");
    assert_string_equal(kpi_text_format_rate(-INFINITY, buf), "");
    assert_string_equal(kpi_text_format_rate(NAN, buf), "");
    check_formats_match_printf(INFINITY);
    check_formats_match_printf(-INFINITY);
    check_formats_match_printf(NAN);
    check_formats_match_printf(-NAN);
}

/* splitmix64: a fixed seed makes every run check the same values. */
static uint64_t format_rng = 20240611;

static uint64_t rng_next(void)
{
    uint64_t z = (format_rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
    return rng_next() % n;
}

static uint64_t pow10_of(unsigned n)
{
    uint64_t p = 1;
    while (n--)
        p *= 10;
    return p;
}

static double rng_sign(double x)
{
    return rng_next() & 1 ? -x : x;
}

/* The families of values; each gives a finite double. */

static double random_bits(void)
{
    for (;;) {
        uint64_t bits = rng_next();
        double x;
        memcpy(&x, &bits, sizeof x);
        if (isfinite(x))
            return x;
    }
}

static double random_integer(void)
{
    return rng_sign((double)(rng_next() >> rng_below(64)));
}

/* k / 10^d with 1 to 4 decimals, as typed into a CSV: 97.32, 0.5. */
static double random_decimal(void)
{
    uint64_t k = rng_below(pow10_of(1 + (unsigned)rng_below(10)));
    return rng_sign((double)k / (double)pow10_of(1 + (unsigned)rng_below(4)));
}

/* a / b * 100 of small counts, as KPI formulas make them. */
static double random_ratio(void)
{
    uint64_t a = rng_below(pow10_of(1 + (unsigned)rng_below(6)));
    uint64_t b = 1 + rng_below(pow10_of(1 + (unsigned)rng_below(6)));
    return rng_next() & 1 ? (double)a / (double)b * 100 : (double)a * 100 / (double)b;
}

/* 15 to 17 random digits at any exponent: decimals that just do or do not
 * read back at 15 and 16 digits. */
static double random_digits(void)
{
    char text[48];
    unsigned prec = 15 + (unsigned)rng_below(3);
    uint64_t d = pow10_of(prec - 1) + rng_below(pow10_of(prec) - pow10_of(prec - 1));
    double x;
    snprintf(text, sizeof text, "%llue%d", (unsigned long long)d, (int)rng_below(640) - 330);
    x = strtod(text, NULL);
    return isfinite(x) ? rng_sign(x) : 1.5;
}

/* The double nearest a decimal halfway between two of 15 digits (so also
 * between two rates at 2 decimals), or a neighbour: the closest calls. */
static double random_halfway(void)
{
    char text[48];
    uint64_t d = pow10_of(14) + rng_below(pow10_of(15) - pow10_of(14));
    int e = rng_below(4) ? (int)rng_below(40) - 20 : (int)rng_below(640) - 330;
    double x;
    snprintf(text, sizeof text, "%llu5e%d", (unsigned long long)d, e);
    x = strtod(text, NULL);
    if (!isfinite(x))
        return 2.5;
    switch (rng_below(4)) {
    case 0:
        return rng_sign(nextafter(x, 0));
    case 1:
        return rng_sign(nextafter(x, INFINITY));
    default:
        return rng_sign(x);
    }
}

/* 2^n and its neighbours: below a power of two the gap is half as wide. */
static double random_power_of_two(void)
{
    double x = ldexp(1, (int)rng_below(2098) - 1074);
    switch (rng_below(3)) {
    case 0:
        x = nextafter(x, 0);
        break;
    case 1:
        x = nextafter(x, INFINITY);
        break;
    default:
        break;
    }
    return isfinite(x) ? rng_sign(x) : DBL_MAX;
}

/* Integers from 2^53 to 2^67, where short decimals can lie exactly halfway
 * between two doubles. */
static double random_big_integer(void)
{
    uint64_t m = (rng_next() >> 11) | ((uint64_t)1 << 52);
    return rng_sign(ldexp((double)m, (int)rng_below(15)));
}

/* Values per family: 2 million in all, a few seconds; fewer under the
 * sanitizers, and fewer still under valgrind (KPIEVAL_TEST_WRAPPER, as
 * `make valgrind` sets it), to stay within seconds there too. */
#if defined(__SANITIZE_ADDRESS__)
#define FORMAT_VALUES_PER_FAMILY 100000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FORMAT_VALUES_PER_FAMILY 100000
#endif
#endif
#ifndef FORMAT_VALUES_PER_FAMILY
#define FORMAT_VALUES_PER_FAMILY 250000
#endif
#define FORMAT_VALUES_PER_FAMILY_WRAPPED 4000

static void test_text_format_matches_printf_on_random_values(void **state)
{
    static double (*const families[])(void) = {
        random_bits,   random_integer, random_decimal,      random_ratio,
        random_digits, random_halfway, random_power_of_two, random_big_integer,
    };
    const char *wrapper = getenv("KPIEVAL_TEST_WRAPPER");
    int per_family =
        wrapper && *wrapper ? FORMAT_VALUES_PER_FAMILY_WRAPPED : FORMAT_VALUES_PER_FAMILY;
    (void)state;
    format_rng = 20240611;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        for (int i = 0; i < per_family; i++)
            check_formats_match_printf(families[f]());
    }
}

/* Fed in two pieces, cut anywhere (a pair split across a file's windows),
 * the guess is the one over the whole text. */
static void test_text_cp949_in_pieces_matches_whole(void **state)
{
    static const char *const texts[] = {
        "\xBC\xAD\xBF\xEF,\xB0\xE6\xC1\xA6\n",
        "caf\xE9",
        "\xB0\xE6\xB0",
        "\xB0\n",
        "\xFF\xFE",
        "ascii only",
        "a\xB0\xE6",
        "\xB0\xE6\xC1\xA6\x80\x41",
    };
    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]);
        bool whole = kpi_text_looks_cp949(texts[t], len);
        for (size_t cut = 0; cut <= len; cut++) {
            struct kpi_cp949_guess g = {0, false, false};
            kpi_text_cp949_feed(&g, texts[t], cut);
            kpi_text_cp949_feed(&g, texts[t] + cut, len - cut);
            assert_int_equal(kpi_text_cp949_verdict(&g), whole);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_utf8_accepts_valid_text),
        cmocka_unit_test(test_text_utf8_rejects_overlong_forms),
        cmocka_unit_test(test_text_utf8_rejects_surrogates_and_beyond),
        cmocka_unit_test(test_text_utf8_rejects_truncated_sequences),
        cmocka_unit_test(test_text_cp949_detects_korean_excel_bytes),
        cmocka_unit_test(test_text_cp949_rejects_other_bytes),
        cmocka_unit_test(test_text_cp949_in_pieces_matches_whole),
        cmocka_unit_test(test_text_lua_names),
        cmocka_unit_test(test_text_kpi_ids),
        cmocka_unit_test(test_text_visible_escapes_controls),
        cmocka_unit_test(test_text_visible_span_and_escape),
        cmocka_unit_test(test_text_visible_cuts_at_whole_characters),
        cmocka_unit_test(test_text_parse_number_accepts_plain_numbers),
        cmocka_unit_test(test_text_parse_number_long_plain_decimal),
        cmocka_unit_test(test_text_parse_number_rejects_with_the_right_problem),
        cmocka_unit_test(test_text_number_problem_phrases),
        cmocka_unit_test(test_text_format_number_shortest_15_digits),
        cmocka_unit_test(test_text_format_rate_half_away_from_zero),
        cmocka_unit_test(test_text_format_exact_round_trips),
        cmocka_unit_test(test_text_format_edge_cases),
        cmocka_unit_test(test_text_format_matches_printf_on_random_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
