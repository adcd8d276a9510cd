/*
 * fuzz_numbers.c - the cell rules of engine/text.c on arbitrary bytes.
 *
 * Input: all of it goes to the UTF-8 functions (checked against the
 * independent validator in fuzz_common.c) and the CP949 guess; the part
 * before the first NUL byte, as a C string, to kpi_text_parse_number(), the
 * identifier checks and kpi_text_utf8_repair(); the first 8 bytes, as a
 * double (any NaN, infinity, subnormal or -0), and any number parsed, to
 * the three report formats, whose output must read back as the same value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "text.h"

static bool is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

/* The three formats of x: bounded, and each reads back as x. */
static void check_formats(double x)
{
    char *num = malloc(KPI_NUMBER_BUF), *exact = malloc(KPI_NUMBER_BUF);
    char *rate = malloc(KPI_RATE_BUF);
    double back;

    FUZZ_CHECK(num && exact && rate);
    FUZZ_CHECK(kpi_text_format_number(x, num) == num);
    FUZZ_CHECK(kpi_text_format_exact(x, exact) == exact);
    FUZZ_CHECK(kpi_text_format_rate(x, rate) == rate);
    FUZZ_CHECK(strlen(num) < KPI_NUMBER_BUF);
    FUZZ_CHECK(strlen(exact) < KPI_NUMBER_BUF);
    FUZZ_CHECK(strlen(rate) < KPI_RATE_BUF);

    if (isfinite(x)) {
        /* %.15g: 15 significant digits, read back by our own parser;
         * except that above 1.79769313486231e308 they round to a number
         * beyond the largest double (known, harmless). */
        if (kpi_text_parse_number(num, &back) == KPI_NUMBER_OK)
            FUZZ_CHECK(fabs(back - x) <= fabs(x) * 1e-14);
        else
            FUZZ_CHECK(fabs(x) > 1.79769313486231e308);
        FUZZ_CHECK(strcmp(num, "-0") != 0);
        /* The exact form reads back as exactly x. */
        FUZZ_CHECK(kpi_text_parse_number(exact, &back) == KPI_NUMBER_OK);
        FUZZ_CHECK(back == x);
        /* Two decimals, rounded on the 15-digit value. */
        const char *dot = strchr(rate, '.');
        FUZZ_CHECK(dot != NULL && strlen(dot) == 3);
        if (kpi_text_parse_number(rate, &back) == KPI_NUMBER_OK)
            FUZZ_CHECK(fabs(back - x) <= 0.005 * (1 + 1e-9) + fabs(x) * 1e-14);
        else
            FUZZ_CHECK(fabs(x) > 1.79769313486231e308);
        FUZZ_CHECK(strcmp(rate, "-0.00") != 0);
    } else {
        FUZZ_CHECK(rate[0] == '\0');
    }
    free(num);
    free(exact);
    free(rate);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bytes = (const char *)data;
    size_t len = strnlen(bytes, size);
    char *s = malloc(len + 1), *repaired = malloc(len + 1), *expected = malloc(len + 1);
    const double sentinel = 12345.678;
    double v = sentinel;
    enum kpi_number_problem p;

    FUZZ_CHECK(s && repaired && expected);
    memcpy(s, bytes, len);
    s[len] = '\0';

    /* UTF-8: the engine's validator agrees with ours everywhere. */
    FUZZ_CHECK(kpi_text_utf8_invalid_at(bytes, size) == fuzz_utf8_invalid_at(bytes, size));
    for (size_t cut = 0; cut < size && cut < 8; cut++)
        FUZZ_CHECK(kpi_text_utf8_invalid_at(bytes + cut, size - cut) ==
                   fuzz_utf8_invalid_at(bytes + cut, size - cut));
    if (kpi_text_looks_cp949(bytes, size)) {
        bool high = false;
        for (size_t i = 0; i < size; i++)
            high = high || (unsigned char)bytes[i] >= 0x80;
        FUZZ_CHECK(high);
    }

    /* Repair: exactly the bytes that start no valid sequence become '?'. */
    memcpy(repaired, s, len + 1);
    kpi_text_utf8_repair(repaired);
    for (size_t j = 0; j < len;) {
        size_t ok = fuzz_utf8_invalid_at(s + j, len - j);
        memcpy(expected + j, s + j, ok);
        j += ok;
        if (j < len)
            expected[j++] = '?';
    }
    expected[len] = '\0';
    FUZZ_CHECK(!memcmp(repaired, expected, len + 1));
    FUZZ_CHECK(fuzz_utf8_valid(repaired, len));

    /* Identifiers. */
    if (kpi_text_is_kpi_id(s)) {
        FUZZ_CHECK(len > 0);
        FUZZ_CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                   len);
    }
    if (kpi_text_is_lua_name(s)) {
        FUZZ_CHECK(len > 0 && !(s[0] >= '0' && s[0] <= '9'));
        FUZZ_CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                   len);
        FUZZ_CHECK(strcmp(s, "end") && strcmp(s, "nil") && strcmp(s, "goto"));
    }

    /* Numbers: only plain decimal or scientific notation, finite. */
    p = kpi_text_parse_number(s, &v);
    FUZZ_CHECK(kpi_text_number_problem(p) != NULL);
    if (p == KPI_NUMBER_OK) {
        const char *t = s + strspn(s, " \t");
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        FUZZ_CHECK(n > 0);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(is_number_char(t[i]));
        FUZZ_CHECK(isfinite(v));
        FUZZ_CHECK(strtod(t, NULL) == v);
        check_formats(v);
    } else {
        FUZZ_CHECK(v == sentinel); /* untouched on failure */
        FUZZ_CHECK(p == KPI_NUMBER_EMPTY || p == KPI_NUMBER_SYNTAX || p == KPI_NUMBER_THOUSANDS ||
                   p == KPI_NUMBER_NONFINITE || p == KPI_NUMBER_RANGE);
        if (p == KPI_NUMBER_EMPTY)
            FUZZ_CHECK(strspn(s, " \t") == len);
        if (p == KPI_NUMBER_THOUSANDS)
            FUZZ_CHECK(strchr(s, ',') != NULL);
    }

    /* Any double, from the raw bytes. */
    if (size >= sizeof(double)) {
        double x;
        memcpy(&x, data, sizeof x);
        check_formats(x);
        check_formats(-x);
        check_formats(x / 100);
    }

    free(s);
    free(repaired);
    free(expected);
    return 0;
}
