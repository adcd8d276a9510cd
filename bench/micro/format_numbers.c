/*
 * format_numbers.c - checks and times the report number formats of
 * engine/text.c against their printf definitions.
 *
 * Not part of the build: the file includes engine/text.c itself, so that it
 * can call the printf forms (the code before the fast path, kept as the
 * fallback) and count how often the fast path falls back to them.
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I engine -o /tmp/format_numbers \
 *      bench/micro/format_numbers.c -lm
 *   /tmp/format_numbers check 100000000 [seed]   compare N values per family
 *                                                 (and the exact integer path)
 *   /tmp/format_numbers bench                     ns per call, before/after
 */
#include <float.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long printf_calls;

static int counting_snprintf(char *buf, size_t size, const char *format, ...)
{
    va_list ap;
    int n;
    printf_calls++;
    va_start(ap, format);
    n = vsnprintf(buf, size, format, ap);
    va_end(ap);
    return n;
}

#define snprintf counting_snprintf
#include "text.c"
#undef snprintf

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
    return rng_next() % n;
}

static double with_sign(double x)
{
    return rng_next() & 1 ? -x : x;
}

/* The families of values; each returns a finite double. */

static double family_bits(void)
{
    for (;;) {
        uint64_t b = rng_next();
        double x;
        memcpy(&x, &b, sizeof x);
        if (isfinite(x))
            return x;
    }
}

static double family_integer(void)
{
    return with_sign((double)(rng_next() >> rng_below(64)));
}

static double family_decimal(void)
{
    /* k / 10^d with d = 1..4 decimals, as typed into a CSV. */
    uint64_t k = rng_below(pow10_u64[1 + rng_below(12)]);
    return with_sign((double)k / (double)pow10_u64[1 + rng_below(4)]);
}

static double family_ratio(void)
{
    /* a / b * 100 of small counts, as KPI formulas make them. */
    uint64_t a = rng_below(pow10_u64[1 + rng_below(6)]);
    uint64_t b = 1 + rng_below(pow10_u64[1 + rng_below(6)]);
    return rng_next() & 1 ? (double)a / (double)b * 100 : (double)a * 100 / (double)b;
}

static double family_digits(void)
{
    /* 15 to 17 random significant digits at any exponent: decimals that
     * just do or do not read back at 15 and 16 digits. */
    char text[64];
    int prec = 15 + (int)rng_below(3);
    uint64_t d = pow10_u64[prec - 1] + rng_below(pow10_u64[prec] - pow10_u64[prec - 1]);
    int e = (int)rng_below(640) - 330;
    double x;
    snprintf(text, sizeof text, "%" PRIu64 "e%d", d, e);
    x = strtod(text, NULL);
    return isfinite(x) ? with_sign(x) : 1.5;
}

static double family_halfway(void)
{
    /* The double nearest a decimal halfway between two 15-digit ones (or
     * 2-decimal ones), and its neighbours: the rounding decisions closest to
     * call. */
    char text[64];
    uint64_t d = pow10_u64[14] + rng_below(pow10_u64[15] - pow10_u64[14]);
    int e = rng_below(4) ? (int)rng_below(40) - 20 : (int)rng_below(640) - 330;
    double x;
    snprintf(text, sizeof text, "%" PRIu64 "5e%d", d, e);
    x = strtod(text, NULL);
    if (!isfinite(x))
        return 2.5;
    switch (rng_below(5)) {
    case 0:
        x = nextafter(x, 0);
        break;
    case 1:
        x = nextafter(x, INFINITY);
        break;
    case 2:
        x = nextafter(nextafter(x, 0), 0);
        break;
    default:
        break;
    }
    return with_sign(x);
}

static double family_power_of_two(void)
{
    /* 2^n and its neighbours: the narrow gap below a power of two. */
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
    return isfinite(x) ? with_sign(x) : DBL_MAX;
}

static double family_big_integer(void)
{
    /* Integers 2^53..2^67 have gaps of 2 and more: exact decimal
     * midpoints between doubles exist. */
    return with_sign(ldexp((double)((rng_next() >> 11) | ((uint64_t)1 << 52)), (int)rng_below(15)));
}

static const struct family {
    const char *name;
    double (*make)(void);
} families[] = {
    {"random bits", family_bits},
    {"integers", family_integer},
    {"k/10^d", family_decimal},
    {"a/b*100", family_ratio},
    {"15-17 digits", family_digits},
    {"halfway", family_halfway},
    {"powers of two", family_power_of_two},
    {"integers 2^53+", family_big_integer},
};

static int check(double x)
{
    char want[KPI_RATE_BUF], got[KPI_RATE_BUF];
    int bad = 0;

    format_number_printf(x, want);
    kpi_text_format_number(x, got);
    if (strcmp(want, got))
        bad = 1, printf("number %a (%.17g): want %s got %s\n", x, x, want, got);
    format_exact_printf(x, want);
    kpi_text_format_exact(x, got);
    if (strcmp(want, got))
        bad = 1, printf("exact %a (%.17g): want %s got %s\n", x, x, want, got);
    format_rate_printf(x, want);
    kpi_text_format_rate(x, got);
    if (strcmp(want, got))
        bad = 1, printf("rate %a (%.17g): want %s got %s\n", x, x, want, got);
    return bad;
}

/* decide_integer only runs where decide_scaled cannot tell; here both run
 * on every value they apply to, and must agree where decide_scaled can (on
 * the rounded digits: q may differ by one with up making up for it). */
static unsigned long long integer_checks;

static int check_integer_path(double x)
{
    struct decimal_scale s;
    if (!isfinite(x) || x == 0 || !scale_decimal(fabs(x), &s))
        return 0;
    for (int prec = 15; prec <= 17; prec++) {
        uint64_t q1, q2;
        bool up1, up2, back1, back2;
        if (!decide_integer(&s, prec, &q2, &up2, &back2))
            return 0;
        integer_checks++;
        if (decide_scaled(&s, prec, &q1, &up1, &back1) &&
            (q1 + up1 != q2 + up2 || back1 != back2)) {
            printf("integer path %a prec %d: scaled %llu%+d %d, integer %llu%+d %d\n", x, prec,
                   (unsigned long long)q1, up1, back1, (unsigned long long)q2, up2, back2);
            return 1;
        }
    }
    return 0;
}

static int run_check(unsigned long long per_family, uint64_t seed)
{
    unsigned long long total_bad = 0;
    rng_state = seed;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        unsigned long long bad = 0, fallbacks = 0;
        for (unsigned long long i = 0; i < per_family; i++) {
            double x = families[f].make();
            unsigned long long before;
            char buf[KPI_RATE_BUF];
            bad += (unsigned long long)check(x);
            bad += (unsigned long long)check_integer_path(x);
            /* Count the fast path's own printf calls, away from check(). */
            before = printf_calls;
            kpi_text_format_number(x, buf);
            kpi_text_format_exact(x, buf);
            kpi_text_format_rate(x, buf);
            fallbacks += printf_calls != before;
        }
        printf("%-16s %llu values, %llu mismatches, %llu fell back to printf\n", families[f].name,
               per_family, bad, fallbacks);
        fflush(stdout);
        total_bad += bad;
    }
    printf("integer path cross-checked on %llu roundings\n", integer_checks);
    return total_bad ? 1 : 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Typical values of a KPI report: achievements, targets, counts, rates. */
static const double typical[] = {
    65.8499234303216,
    2150,
    0.5,
    97.32,
    1e-7,
    1e20,
    -12.5,
    0,
    -0.0,
    100,
    3000,
    1.005,
    87.5,
    0.1 + 0.2,
    1.0 / 3.0,
    123456,
    99.99,
    4.9406564584124654e-324,
    DBL_MAX,
    -2.675,
    42,
    0.015,
    71.42857142857143,
    250000,
    1234.5678,
};
#define NTYPICAL (sizeof typical / sizeof typical[0])

typedef char *(*formatter)(double, char *);

static double time_ns(formatter f, const double *values, size_t n, int rounds)
{
    char buf[KPI_RATE_BUF];
    volatile char sink = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++)
            sink ^= f(values[i], buf)[0];
    }
    (void)sink;
    return (now() - t0) * 1e9 / ((double)rounds * (double)n);
}

static void run_bench(void)
{
    static const struct {
        const char *name;
        formatter before, after;
    } pairs[] = {
        {"format_number", format_number_printf, kpi_text_format_number},
        {"format_exact", format_exact_printf, kpi_text_format_exact},
        {"format_rate", format_rate_printf, kpi_text_format_rate},
    };
    /* A mix of a/b*100 ratios as well, as a million KPI rows would have. */
    static double mix[4096];
    rng_state = 42;
    for (size_t i = 0; i < 4096; i++)
        mix[i] = i % 4 == 0 ? family_integer() : i % 4 == 1 ? family_decimal() : family_ratio();

    printf("%-14s %-10s %10s %10s %8s\n", "function", "values", "before ns", "after ns", "speedup");
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        double b = time_ns(pairs[p].before, typical, NTYPICAL, 20000);
        double a = time_ns(pairs[p].after, typical, NTYPICAL, 200000);
        printf("%-14s %-10s %10.1f %10.1f %7.1fx\n", pairs[p].name, "typical", b, a, b / a);
        b = time_ns(pairs[p].before, mix, 4096, 100);
        a = time_ns(pairs[p].after, mix, 4096, 1000);
        printf("%-14s %-10s %10.1f %10.1f %7.1fx\n", pairs[p].name, "KPI mix", b, a, b / a);
    }
    /* Per value: ns before/after for each function. */
    printf("\n%-24s %14s %14s %14s\n", "value", "number", "exact", "rate");
    for (size_t i = 0; i < NTYPICAL; i++) {
        printf("%-24.17g", typical[i]);
        for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
            printf(" %7.1f/%6.1f", time_ns(pairs[p].before, typical + i, 1, 20000),
                   time_ns(pairs[p].after, typical + i, 1, 200000));
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "check"))
        return run_check(strtoull(argv[2], NULL, 10),
                         argc >= 4 ? strtoull(argv[3], NULL, 0) : 20240611);
    if (argc >= 2 && !strcmp(argv[1], "bench")) {
        run_bench();
        return 0;
    }
    fprintf(stderr, "usage: format_numbers check N [seed] | bench\n");
    return 2;
}
