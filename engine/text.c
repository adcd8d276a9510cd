#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t kpi_text_utf8_invalid_at(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned min;
        unsigned cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return i;
        }
        if (len - i <= need)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += need + 1;
    }
    return len;
}

void kpi_text_utf8_repair(char *s)
{
    size_t len = strlen(s), i = 0;
    while (i < len) {
        i += kpi_text_utf8_invalid_at(s + i, len - i);
        if (i < len)
            s[i++] = '?';
    }
}

bool kpi_text_looks_cp949(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t pairs = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80)
            continue;
        /* CP949 lead bytes 0x81-0xFE, trail 0x41-0xFE; EUC-KR Hangul is
         * 0xB0-0xC8 followed by 0xA1-0xFE, a subset. */
        if (s[i] == 0xFF || s[i] == 0x80 || i + 1 >= len || s[i + 1] < 0x41 || s[i + 1] == 0xFF)
            return false;
        pairs++;
        i++;
    }
    return pairs > 0;
}

static const char *const lua_keywords[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
};

bool kpi_text_is_lua_name(const char *s)
{
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (const char *p = s + 1; *p; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    }
    for (size_t i = 0; i < sizeof lua_keywords / sizeof lua_keywords[0]; i++) {
        if (!strcmp(s, lua_keywords[i]))
            return false;
    }
    return true;
}

bool kpi_text_is_kpi_id(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    }
    return true;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

enum kpi_number_problem kpi_text_parse_number(const char *s, double *out)
{
    const char *p, *end;
    size_t int_digits = 0, frac_digits = 0;
    double v;
    char *stop;

    while (is_space(*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_space(end[-1]))
        end--;
    if (end == s)
        return KPI_NUMBER_EMPTY;

    p = s;
    if (*p == '+' || *p == '-')
        p++;
    while (p < end && is_digit(*p))
        p++, int_digits++;
    if (p < end && *p == '.') {
        p++;
        while (p < end && is_digit(*p))
            p++, frac_digits++;
    }
    if (int_digits + frac_digits == 0) {
        /* "nan", "inf", "-Infinity" and friends get their own message. */
        const char *w = s + (*s == '+' || *s == '-');
        size_t n = (size_t)(end - w);
        if ((n == 3 && !strncasecmp(w, "nan", 3)) ||
            (n == 3 && !strncasecmp(w, "inf", 3)) ||
            (n == 8 && !strncasecmp(w, "infinity", 8)))
            return KPI_NUMBER_NONFINITE;
        return KPI_NUMBER_SYNTAX;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        size_t exp_digits = 0;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        while (q < end && is_digit(*q))
            q++, exp_digits++;
        if (exp_digits == 0)
            return KPI_NUMBER_SYNTAX;
        p = q;
    }
    if (p != end) {
        /* 3,000 or 1,234,567.5: digits in groups of three after a comma. */
        if (*p == ',' && frac_digits == 0 && int_digits >= 1 && int_digits <= 3) {
            const char *q = p;
            while (q + 4 <= end && q[0] == ',' && is_digit(q[1]) && is_digit(q[2]) &&
                   is_digit(q[3]))
                q += 4;
            if (q > p && (q == end || *q == '.'))
                return KPI_NUMBER_THOUSANDS;
        }
        return KPI_NUMBER_SYNTAX;
    }
    /* The syntax is checked, so strtod reads exactly s..end. */
    errno = 0;
    v = strtod(s, &stop);
    if (stop != end)
        return KPI_NUMBER_SYNTAX;
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return KPI_NUMBER_RANGE;
    *out = v;
    return KPI_NUMBER_OK;
}

const char *kpi_text_number_problem(enum kpi_number_problem p)
{
    switch (p) {
    case KPI_NUMBER_OK: return "a number";
    case KPI_NUMBER_EMPTY: return "is empty";
    case KPI_NUMBER_SYNTAX: return "is not a number";
    case KPI_NUMBER_THOUSANDS:
        return "has a thousands separator; write the number without ',' (e.g. 3000)";
    case KPI_NUMBER_NONFINITE: return "is not a finite number";
    case KPI_NUMBER_RANGE: return "is out of range for a number";
    }
    return "is not a number";
}

char *kpi_text_format_number(double x, char buf[KPI_NUMBER_BUF])
{
    if (x == 0)
        x = 0; /* -0 -> 0 */
    snprintf(buf, KPI_NUMBER_BUF, "%.15g", x);
    return buf;
}

char *kpi_text_format_exact(double x, char buf[KPI_NUMBER_BUF])
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

char *kpi_text_format_rate(double x, char buf[KPI_RATE_BUF])
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
    /* sci = "d.dddddddddddddde+XX": the 15 significant digits. */
    snprintf(sci, sizeof sci, "%.14e", fabs(x));
    exp10 = (int)strtol(strchr(sci, 'e') + 1, NULL, 10);
    /* Digit i of the 15 has place value 10^(exp10 - i); keep those >= 10^-2. */
    keep = exp10 + 3;
    if (keep > (int)sizeof digits - 8)
        keep = (int)sizeof digits - 8;
    for (int i = 0; i < keep; i++) {
        int src = i == 0 ? 0 : i + 1; /* skip the '.' in sci */
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
    /* digits now hold round(|x| * 100); pad to at least "0dd". */
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
