#include "text.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t kpi_text_utf8_char(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t need;
    unsigned min, cp;

    if (len == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        need = 1, min = 0x80, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        need = 2, min = 0x800, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        need = 3, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (len <= need)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need + 1;
}

size_t kpi_text_utf8_scan(const char *s, size_t len, bool *long_chars)
{
    size_t i = 0;

    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = kpi_text_utf8_char(s + i, len - i);
        if (!n)
            return i;
        *long_chars = *long_chars || n >= 3;
        i += n;
    }
    return len;
}

size_t kpi_text_utf8_invalid_at(const char *s, size_t len)
{
    bool long_chars = false;
    return kpi_text_utf8_scan(s, len, &long_chars);
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

/* ---- visible text ------------------------------------------------------- */

size_t kpi_text_visible_span(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F) {
            i++;
            continue;
        }
        if (c < 0x80)
            break; /* C0 or DEL */
        size_t n = kpi_text_utf8_char(str + i, len - i);
        if (!n || (c == 0xC2 && s[i + 1] < 0xA0)) /* not UTF-8, or C1 */
            break;
        i += n;
    }
    return i;
}

size_t kpi_text_visible_escape(const char *str, size_t len, char buf[KPI_VISIBLE_ESCAPE_BUF])
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    /* U+0080..U+009F is C2 80..C2 9F: the code point is the second byte. */
    bool c1 = len >= 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] < 0xA0;
    unsigned char v = c1 ? s[1] : s[0];

    assert(len > 0);
    buf[0] = '\\';
    buf[1] = 'x';
    buf[2] = hex[v >> 4];
    buf[3] = hex[v & 15];
    buf[4] = '\0';
    return c1 ? 2 : 1;
}

size_t kpi_text_visible(const char *s, char *out, size_t size)
{
    size_t len = strlen(s), need = 0, o = 0;
    bool full = size == 0;

    while (len) {
        char esc[KPI_VISIBLE_ESCAPE_BUF];
        size_t n = kpi_text_visible_span(s, len), used = 0, add;
        const char *piece = s;

        if (n == 0) {
            used = kpi_text_visible_escape(s, len, esc);
            piece = esc;
            n = 4;
        }
        add = n;
        need += add;
        if (!full) {
            /* A span holds whole characters: cut it at one. */
            if (o + add >= size) {
                add = piece == esc ? 0 : size - 1 - o;
                while (add > 0 && add < n && ((unsigned char)piece[add] & 0xC0) == 0x80)
                    add--;
                full = true;
            }
            memcpy(out + o, piece, add);
            o += add;
        }
        if (piece == esc) {
            s += used;
            len -= used;
        } else {
            s += n;
            len -= n;
        }
    }
    if (size)
        out[o] = '\0';
    return need;
}

void kpi_text_cp949_feed(struct kpi_cp949_guess *g, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    if (g->impossible || len == 0)
        return;
    if (g->lead_pending) {
        g->lead_pending = false;
        if (s[0] < 0x41 || s[0] == 0xFF) {
            g->impossible = true;
            return;
        }
        g->pairs++;
        i = 1;
    }
    for (; i < len; i++) {
        if (s[i] < 0x80)
            continue;
        /* CP949 lead bytes 0x81-0xFE, trail 0x41-0xFE; EUC-KR Hangul is
         * 0xB0-0xC8 followed by 0xA1-0xFE, a subset. */
        if (s[i] == 0xFF || s[i] == 0x80 ||
            (i + 1 < len && (s[i + 1] < 0x41 || s[i + 1] == 0xFF))) {
            g->impossible = true;
            return;
        }
        if (i + 1 == len) {
            g->lead_pending = true;
            return;
        }
        g->pairs++;
        i++;
    }
}

bool kpi_text_cp949_verdict(const struct kpi_cp949_guess *g)
{
    return !g->impossible && !g->lead_pending && g->pairs > 0;
}

bool kpi_text_looks_cp949(const char *str, size_t len)
{
    struct kpi_cp949_guess g = {0, false, false};
    kpi_text_cp949_feed(&g, str, len);
    return kpi_text_cp949_verdict(&g);
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
        if (s[0] == lua_keywords[i][0] && !strcmp(s, lua_keywords[i]))
            return false;
    }
    return true;
}

static bool word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool kpi_text_has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = n ? strstr(text, word) : NULL; p; p = strstr(p + 1, word))
        if ((p == text || !word_char(p[-1])) && !word_char(p[n]))
            return true;
    return false;
}

bool kpi_text_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !memcmp(p, name, n))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
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

bool kpi_text_runs_as_formula(const char *s)
{
    double ignored;
    if (!strchr("=+-@\t\r", s[0]) || !s[0] || !s[1])
        return false;
    return kpi_text_parse_number(s, &ignored) != KPI_NUMBER_OK;
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

/* ---- number formats --------------------------------------------------------
 *
 * The three formats are what glibc's printf writes for "%.15g", "%.14e" and
 * "%.17g" in the C locale (the program never calls setlocale). printf gets
 * its digits through multi-precision arithmetic, which dominated the time to
 * write a large report. The fast path below computes the same correctly
 * rounded digits with 128-bit integers and leaves to printf the rare value
 * whose digits it cannot prove (see struct decimal_scale). Non-finite values
 * always go to printf.
 */

/* The printf forms: the definition of the formats, and the fallback. */

static char *format_number_printf(double x, char buf[KPI_NUMBER_BUF])
{
    if (x == 0)
        x = 0; /* -0 -> 0 */
    snprintf(buf, KPI_NUMBER_BUF, "%.15g", x);
    return buf;
}

static char *format_exact_printf(double x, char buf[KPI_NUMBER_BUF])
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

static char *format_rate_printf(double x, char buf[KPI_RATE_BUF])
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

#if defined(__SIZEOF_INT128__)

typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
    1u,
    10u,
    100u,
    1000u,
    10000u,
    100000u,
    1000000u,
    10000000u,
    100000000u,
    1000000000u,
    10000000000u,
    100000000000u,
    1000000000000u,
    10000000000000u,
    100000000000000u,
    1000000000000000u,
    10000000000000000u,
    100000000000000000u,
    1000000000000000000u,
    10000000000000000000u,
};

/* 5^r for r = 0..27, all below 2^64. */
static const uint64_t pow5_u64[28] = {
    1u,
    5u,
    25u,
    125u,
    625u,
    3125u,
    15625u,
    78125u,
    390625u,
    1953125u,
    9765625u,
    48828125u,
    244140625u,
    1220703125u,
    6103515625u,
    30517578125u,
    152587890625u,
    762939453125u,
    3814697265625u,
    19073486328125u,
    95367431640625u,
    476837158203125u,
    2384185791015625u,
    11920928955078125u,
    59604644775390625u,
    298023223876953125u,
    1490116119384765625u,
    7450580596923828125u,
};

/* 10^(28 i) for i = -11..12 is about (hi * 2^64 + lo) * 2^exp2, with the
 * mantissa in [2^127, 2^128) rounded to nearest; exact for i = 0 and 1
 * (5^28 fits in 128 bits). Computed with exact integers, in Python: for
 * i >= 0, v = 10**(28*i), exp2 = v.bit_length() - 128 and the mantissa
 * round(v / 2**exp2); for i < 0, exp2 = -s with s the exponent for which
 * 2**s // 10**(-28*i) lies in [2**127, 2**128), and the mantissa
 * round(2**s / 10**(-28*i)). */
#define POW10_STEP_MIN (-308)
static const struct pow10_step {
    uint64_t hi, lo;
    int exp2;
} pow10_steps[24] = {
    {0xe61acf033d1a45dfu, 0x6fb92487298e33beu, -1151}, /* 10^-308 */
    {0xe858ad248f5c22c9u, 0xd1b3400f8f9cff69u, -1058}, /* 10^-280 */
    {0xea9c227723ee8bcbu, 0x465e15a979c1cadcu, -965},  /* 10^-252 */
    {0xece53cec4a314ebdu, 0xa4f8bf5635246428u, -872},  /* 10^-224 */
    {0xef340a98172aace4u, 0x86fb897116c87c35u, -779},  /* 10^-196 */
    {0xf18899b1bc3f8ca1u, 0xdc44e6c3cb279ac2u, -686},  /* 10^-168 */
    {0xf3e2f893dec3f126u, 0x5a89dba3c3efccfbu, -593},  /* 10^-140 */
    {0xf64335bcf065d37du, 0x4d4617b5ff4a16d6u, -500},  /* 10^-112 */
    {0xf8a95fcf88747d94u, 0x75a44c6397ce912au, -407},  /* 10^-84 */
    {0xfb158592be068d2eu, 0xeed6e2f0f0d56713u, -314},  /* 10^-56 */
    {0xfd87b5f28300ca0du, 0x8bca9d6e188853fcu, -221},  /* 10^-28 */
    {0x8000000000000000u, 0x0000000000000000u, -127},  /* 10^0 */
    {0x813f3978f8940984u, 0x4000000000000000u, -34},   /* 10^28 */
    {0x82818f1281ed449fu, 0xbff8f10e7a8921a4u, 59},    /* 10^56 */
    {0x83c7088e1aab65dbu, 0x792667c6da79e0fau, 152},   /* 10^84 */
    {0x850fadc09923329eu, 0x03e2cf6bc604ddb0u, 245},   /* 10^112 */
    {0x865b86925b9bc5c2u, 0x0b8a2392ba45a9b2u, 338},   /* 10^140 */
    {0x87aa9aff79042286u, 0x90fb44d2f05d0843u, 431},   /* 10^168 */
    {0x88fcf317f22241e2u, 0x441fece3bdf81f03u, 524},   /* 10^196 */
    {0x8a5296ffe33cc92fu, 0x82bd6b70d99aaa70u, 617},   /* 10^224 */
    {0x8bab8eefb6409c1au, 0x1ad089b6c2f7548eu, 710},   /* 10^252 */
    {0x8d07e33455637eb2u, 0xdb0b487b6423e1e8u, 803},   /* 10^280 */
    {0x8e679c2f5e44ff8fu, 0x570f09eaa7ea7648u, 896},   /* 10^308 */
    {0x8fcac257558ee4e6u, 0x213a4f0aa5e8a7b2u, 989},   /* 10^336 */
};

/*
 * A positive finite x = m * 2^e scaled by 10^k, k = 16 - floor(log2(x) *
 * log10(2)), so that x * 10^k lies in [10^16, 10^18), as fixed-point numbers
 * with 64 fraction bits (all below 2^124):
 *   y        = x * 10^k * 2^64
 *   half_ulp = 2^(e-1) * 10^k * 2^64, half the gap to the next double.
 * 10^k is a 128-bit mantissa within 2^-126.4 of the truth, so both are
 * within 1.2 units of the exact values (floor and mantissa error together);
 * err is 0 when they are exact (10^k fits 128 bits and no set bit was
 * shifted out) and 4, a safe bound, otherwise. A decision closer than err
 * to its threshold is not taken: the caller uses printf instead.
 */
struct decimal_scale {
    u128 y;
    u128 half_ulp;
    uint64_t m; /* x = m * 2^e */
    int e;
    int k;             /* the power of ten of y */
    int exp10;         /* floor(log10(x)) */
    int extra;         /* 1 when y >= 10^17 * 2^64: one more integer digit */
    unsigned err;      /* bound on the error of y and half_ulp, in 2^-64 units */
    bool narrow_below; /* the double below x is half as far: x = 2^n, normal */
    bool even;         /* m is even: a decimal halfway to a neighbour reads as x */
};

/* floor(b * log10(2)): 78913 / 2^18 is just below log10(2), close enough for
 * every b from -1200 to 1100 (checked with exact integers), and a double's
 * floor(log2(x)) lies in [-1074, 1023]. */
static int floor_log10_pow2(int b)
{
    int p = b * 78913;
    return p >= 0 ? p >> 18 : -((-p + (1 << 18) - 1) >> 18);
}

static bool scale_decimal(double ax, struct decimal_scale *s)
{
    const struct pow10_step *step;
    uint64_t bits, m, c0, d0, lost_t, lost_y;
    u128 lo, hi, t, low, top;
    int biased, e, est, k, r, lz, t_exp, sh;
    uint64_t whole;

    memcpy(&bits, &ax, sizeof bits);
    biased = (int)(bits >> 52);
    m = bits & (((uint64_t)1 << 52) - 1);
    s->narrow_below = false;
    if (biased == 0) {
        e = -1074; /* subnormal */
    } else {
        s->narrow_below = m == 0 && biased > 1;
        m |= (uint64_t)1 << 52;
        e = biased - 1075;
    }
    if (m == 0)
        return false;
    s->even = (m & 1) == 0;
    s->m = m;
    s->e = e;
    est = floor_log10_pow2(e + 63 - __builtin_clzll(m));
    k = 16 - est;
    s->k = k;

    if (k >= 0 && k <= 27) {
        /* Most values, from 10^-11 to 10^16: y = m * 5^k * 2^(e + k + 64),
         * exact, and sh >= 2 as m * 5^k < 2^116 and y >= 2^117. */
        sh = e + k + 64;
        s->y = (u128)m * pow5_u64[k] << sh;
        s->half_ulp = (u128)pow5_u64[k] << (sh - 1);
        s->err = 0;
        goto digits;
    }

    /* 10^k = 10^(28 i) * 5^r * 2^r; the 192-bit product of the first two,
     * cut to its top 128 bits, is t * 2^(t_exp - r). */
    if (k < POW10_STEP_MIN || k >= POW10_STEP_MIN + 24 * 28)
        return false;
    step = &pow10_steps[(k - POW10_STEP_MIN) / 28];
    r = (k - POW10_STEP_MIN) % 28;
    lo = (u128)step->lo * pow5_u64[r];
    hi = (u128)step->hi * pow5_u64[r] + (uint64_t)(lo >> 64);
    c0 = (uint64_t)lo;
    if ((uint64_t)(hi >> 64) == 0) { /* r == 0 */
        t = (hi << 64) | c0;
        lost_t = 0;
        t_exp = step->exp2;
    } else {
        lz = __builtin_clzll((uint64_t)(hi >> 64));
        t = lz ? (hi << lz) | (c0 >> (64 - lz)) : hi;
        lost_t = c0 << lz;
        t_exp = step->exp2 + r + 64 - lz;
    }

    /* y = m * t * 2^(e + t_exp + 64): the 192-bit top:d0 shifted right by
     * sh, which lies in [3, 63] when the estimate of k is right. */
    low = (u128)m * (uint64_t)t;
    top = (u128)m * (uint64_t)(t >> 64) + (uint64_t)(low >> 64);
    d0 = (uint64_t)low;
    sh = -(e + t_exp + 64);
    if (sh < 1 || sh > 63 || (top >> (60 + sh)) != 0)
        return false;
    s->y = (top << (64 - sh)) | (d0 >> sh);
    lost_y = d0 << (64 - sh);
    s->half_ulp = t >> (sh + 1);
    s->err = (k >= 0 && k < 56 && !lost_t && !lost_y && !(t << (127 - sh))) ? 0 : 4;

digits:
    whole = (uint64_t)(s->y >> 64);
    if (whole < pow10_u64[16] - 1 || whole >= pow10_u64[18])
        return false;
    s->extra = whole >= pow10_u64[17];
    s->exp10 = est + s->extra;
    return true;
}

/*
 * The decisions of rounding x to prec (15..17) significant digits, half to
 * even as printf does: *q is x's digits down to the last one kept, *up
 * whether to add one to it. With reads_back, also whether strtod would give
 * x back for the rounded decimal. Returns false when the error of the
 * scaling leaves either answer open.
 */
static bool decide_scaled(const struct decimal_scale *s, int prec, uint64_t *q, bool *up,
                          bool *reads_back)
{
    int drop = 17 - prec + s->extra; /* digits of y below the last one kept */
    uint64_t whole = (uint64_t)(s->y >> 64);
    u128 rest, unit, half, dist, limit;
    unsigned err = s->err, dist_err;

    switch (drop) { /* constant divisors become multiplications */
    case 0:
        *q = whole;
        break;
    case 1:
        *q = whole / 10;
        break;
    case 2:
        *q = whole / 100;
        break;
    default:
        *q = whole / 1000;
        break;
    }
    /* rest = what lies below the kept digits, unit = one step of q. */
    rest = ((u128)(whole - *q * pow10_u64[drop]) << 64) | (uint64_t)s->y;
    unit = (u128)pow10_u64[drop] << 64;
    half = unit >> 1;
    if (rest > half + err)
        *up = true;
    else if (rest + err < half)
        *up = false;
    else if (err == 0)
        *up = *q & 1; /* exactly halfway */
    else
        return false;

    if (reads_back) {
        /* strtod gives x back when the decimal lies within half_ulp of x
         * (half as much below a power of two), ties going to even. */
        dist = *up ? unit - rest : rest;
        dist_err = err;
        limit = s->half_ulp;
        if (!*up && s->narrow_below)
            dist *= 2, dist_err *= 2;
        if (dist + dist_err + err < limit)
            *reads_back = true;
        else if (dist > limit + dist_err + err)
            *reads_back = false;
        else if (err == 0)
            *reads_back = s->even;
        else
            return false;
    }
    return true;
}

/* The same decisions, exact, for an integer x = m * 2^e, e <= 73, of 18 or
 * more digits (k < 0). Short decimals can lie exactly halfway between two
 * such doubles, where the scaled form cannot tell: 1.000000000000002e17 is
 * halfway between the neighbours 10^17 + 192 and 10^17 + 208 and reads
 * back as the first, whose m is even. */
static bool decide_integer(const struct decimal_scale *s, int prec, uint64_t *q, bool *up,
                           bool *reads_back)
{
    int drop = 17 - prec + s->extra - s->k; /* digits of x below the last one kept */
    u128 n, unit, rest, dist, gap;

    if (s->k >= 0 || s->e < 0 || s->e > 73 || drop > 38)
        return false;
    n = (u128)s->m << s->e;
    gap = (u128)1 << s->e;
    unit = drop <= 19 ? (u128)pow10_u64[drop] : (u128)pow10_u64[19] * pow10_u64[drop - 19];
    rest = n % unit;
    *q = (uint64_t)(n / unit);
    *up = 2 * rest > unit || (2 * rest == unit && (*q & 1));
    if (reads_back) {
        /* Within half the gap (a quarter below a power of two), ties to even. */
        dist = *up ? unit - rest : rest;
        dist *= !*up && s->narrow_below ? 4 : 2;
        *reads_back = dist < gap || (dist == gap && s->even);
    }
    return true;
}

/* Rounds x to prec significant digits: x is about *digits * 10^(*exp10 -
 * prec + 1), *digits in [10^(prec-1), 10^prec). Returns false when the
 * fast path cannot tell the digits (or, with reads_back, the read-back). */
static bool round_decimal(const struct decimal_scale *s, int prec, uint64_t *digits, int *exp10,
                          bool *reads_back)
{
    uint64_t q;
    bool up;

    if (!decide_scaled(s, prec, &q, &up, reads_back) &&
        !decide_integer(s, prec, &q, &up, reads_back))
        return false;
    q += up;
    *exp10 = s->exp10;
    if (q == pow10_u64[prec]) {
        q = pow10_u64[prec - 1];
        ++*exp10;
    }
    if (q < pow10_u64[prec - 1])
        return false;
    *digits = q;
    return true;
}

static const char digit_pairs[] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

/* Writes v in decimal so that it ends just before end; returns its start. */
static char *write_decimal(char *end, uint64_t v)
{
    while (v >= 100) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

/* Writes v < 10^8 as exactly 8 digits. */
static inline void write_8_digits(char *out, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(out, digit_pairs + 2 * (hi / 100), 2);
    memcpy(out + 2, digit_pairs + 2 * (hi % 100), 2);
    memcpy(out + 4, digit_pairs + 2 * (lo / 100), 2);
    memcpy(out + 6, digit_pairs + 2 * (lo % 100), 2);
}

/* What "%.<prec>g" writes for digits * 10^(exp10 - prec + 1), digits as
 * round_decimal gives them. */
static char *write_g(char *buf, bool negative, uint64_t digits, int exp10, int prec)
{
    char text[24];
    char *d = text + sizeof text - prec, *o = buf;
    uint64_t high = digits / 100000000;
    uint32_t low = (uint32_t)(digits % 100000000);
    int n = prec;

    /* digits has prec (15 to 17) digits: 1 + 8 + 8 of which the last prec. */
    text[7] = (char)('0' + high / 100000000);
    write_8_digits(text + 8, (uint32_t)(high % 100000000));
    write_8_digits(text + 16, low);
    if (low == 0)
        n -= 8;
    while (d[n - 1] == '0') /* %g drops trailing zeros; d[0] is not one */
        n--;

    if (negative)
        *o++ = '-';
    if (exp10 < -4 || exp10 >= prec) {
        unsigned a = (unsigned)(exp10 < 0 ? -exp10 : exp10);
        *o++ = d[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(n - 1));
            o += n - 1;
        }
        *o++ = 'e';
        *o++ = exp10 < 0 ? '-' : '+';
        if (a >= 100) {
            *o++ = (char)('0' + a / 100);
            a %= 100;
        }
        memcpy(o, digit_pairs + 2 * a, 2);
        o += 2;
    } else if (exp10 >= 0) {
        int whole = exp10 + 1;
        if (n <= whole) {
            memcpy(o, d, (size_t)n);
            memset(o + n, '0', (size_t)(whole - n));
            o += whole;
        } else {
            memcpy(o, d, (size_t)whole);
            o += whole;
            *o++ = '.';
            memcpy(o, d + whole, (size_t)(n - whole));
            o += n - whole;
        }
    } else {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', (size_t)(-exp10 - 1));
        o += -exp10 - 1;
        memcpy(o, d, (size_t)n);
        o += n;
    }
    *o = '\0';
    return buf;
}

/* When x is an integer of at most 15 digits (a count, a target), all three
 * formats write it as it is: sets *n to |x| and returns true. */
static bool small_integer(double x, uint64_t *n)
{
    double a = fabs(x);
    int64_t i;
    if (!(a < 1e15))
        return false;
    i = (int64_t)a; /* signed: the conversions are single instructions */
    *n = (uint64_t)i;
    return (double)i == a;
}

/* Writes n with a '-' before when negative; returns the end. */
static char *write_integer(char *o, bool negative, uint64_t n)
{
    char text[20];
    char *d = write_decimal(text + sizeof text, n);
    size_t len = (size_t)(text + sizeof text - d);
    if (negative)
        *o++ = '-';
    memcpy(o, d, len);
    return o + len;
}

char *kpi_text_format_number(double x, char buf[KPI_NUMBER_BUF])
{
    struct decimal_scale s;
    uint64_t digits;
    int exp10;

    if (small_integer(x, &digits)) {
        *write_integer(buf, x < 0 && digits, digits) = '\0'; /* -0 -> 0 */
        return buf;
    }
    if (!isfinite(x) || !scale_decimal(fabs(x), &s) ||
        !round_decimal(&s, 15, &digits, &exp10, NULL))
        return format_number_printf(x, buf);
    return write_g(buf, x < 0, digits, exp10, 15);
}

char *kpi_text_format_exact(double x, char buf[KPI_NUMBER_BUF])
{
    struct decimal_scale s;
    uint64_t digits;
    int exp10;
    bool reads_back;

    if (small_integer(x, &digits)) {
        *write_integer(buf, x < 0 && digits, digits) = '\0';
        return buf;
    }
    if (!isfinite(x) || !scale_decimal(fabs(x), &s))
        return format_exact_printf(x, buf);
    /* The first of 15, 16 and 17 digits that reads back as x. */
    for (int prec = 15; prec <= 16; prec++) {
        if (!round_decimal(&s, prec, &digits, &exp10, &reads_back))
            return format_exact_printf(x, buf);
        if (reads_back)
            return write_g(buf, x < 0, digits, exp10, prec);
    }
    if (!round_decimal(&s, 17, &digits, &exp10, NULL))
        return format_exact_printf(x, buf);
    return write_g(buf, x < 0, digits, exp10, 17);
}

char *kpi_text_format_rate(double x, char buf[KPI_RATE_BUF])
{
    struct decimal_scale s;
    uint64_t digits, cents;
    int exp10, keep;
    char text[20];
    char *o = buf, *d;
    size_t n;

    if (small_integer(x, &digits)) {
        memcpy(write_integer(buf, x < 0 && digits, digits), ".00", 4);
        return buf;
    }
    if (!isfinite(x) || !scale_decimal(fabs(x), &s) ||
        !round_decimal(&s, 15, &digits, &exp10, NULL))
        return format_rate_printf(x, buf);
    /* digits * 10^(exp10 - 14) is the value at 15 significant digits; its
     * first keep digits are those of place value >= 10^-2. */
    keep = exp10 + 3;
    if (keep > 15) {
        /* All 15 digits and keep - 15 zeros (at most 311 characters). */
        if (x < 0)
            *o++ = '-';
        write_decimal(o + 15, digits);
        memset(o + 15, '0', (size_t)(keep - 15));
        o += keep - 2;
        memmove(o + 1, o, 2);
        o[0] = '.';
        o[3] = '\0';
        return buf;
    }
    /* cents = round(|x| * 100), half away from zero on the 15 digits. */
    if (keep < 0) {
        cents = 0;
    } else if (keep == 15) {
        cents = digits;
    } else {
        uint64_t cut = pow10_u64[15 - keep];
        cents = digits / cut + (digits % cut >= cut / 2);
    }
    if (x < 0 && cents != 0)
        *o++ = '-';
    d = write_decimal(text + sizeof text, cents);
    while (text + sizeof text - d < 3)
        *--d = '0';
    n = (size_t)(text + sizeof text - d);
    memcpy(o, d, n - 2);
    o += n - 2;
    *o++ = '.';
    memcpy(o, d + n - 2, 2);
    o[2] = '\0';
    return buf;
}

#else /* no 128-bit integers: printf does it all */

char *kpi_text_format_number(double x, char buf[KPI_NUMBER_BUF])
{
    return format_number_printf(x, buf);
}

char *kpi_text_format_exact(double x, char buf[KPI_NUMBER_BUF])
{
    return format_exact_printf(x, buf);
}

char *kpi_text_format_rate(double x, char buf[KPI_RATE_BUF])
{
    return format_rate_printf(x, buf);
}

#endif

char *kpi_text_format_measure(double x, char buf[KPI_RATE_BUF])
{
    /* A whole number as it is (a count of 400 people), others with two
     * decimals like the rates beside them; in the number format where two
     * decimals would hide the value: 1e15 or more, or not 0 but below
     * 0.005. */
    double m = fabs(x);
    if (x == floor(x) || m >= 1e15 || m < 0.005)
        return kpi_text_format_number(x, buf);
    return kpi_text_format_rate(x, buf);
}
