#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>

#include "kpieval/generate.h"
#include "kpieval/run.h"
#include "kpieval/score.h"
#include "stdlib_path.h"
#include "text.h"
#include "writers.h"

#ifndef KPIEVAL_VERSION
#define KPIEVAL_VERSION "0.1.0"
#endif

#define FAILURES_SHOWN 20

static const char usage_text[] =
    "usage: kpieval run DATASET --out DIR [options]\n"
    "       kpieval check DATASET [options]\n"
    "       kpieval merge OUT PART... [--quiet]\n"
    "       kpieval generate N DIR [--seed S]\n"
    "       kpieval help | version\n"
    "\n"
    "options:\n"
    "  --out DIR             write the reports to DIR (run only)\n"
    "  --period P            evaluate the actuals of period P\n"
    "  --cap N               cap achievements at N percent (default 120)\n"
    "  --grades SPEC         grade bands, default " KPI_DEFAULT_GRADES "\n"
    "  --formulas DIR        more plugin formulas; may repeat, later ones shadow\n"
    "  --max-instructions N  Lua instructions per formula (default 1000000)\n"
    "  --max-memory BYTES    Lua memory per formula, K/M/G suffixes (default 32M)\n"
    "  --time-limit SECONDS  CPU time per formula (default 2)\n"
    "  --jobs N              worker processes (default: one per CPU)\n"
    "  --in-process          evaluate without worker processes (debugging only)\n"
    "  --reports LIST        write only these, e.g. kpis.csv,departments.csv\n"
    "                        (default: kpis.csv,departments.csv,departments/,report.json)\n"
    "  --shard I/N           only the top-level departments of shard I of N,\n"
    "                        as a partial report for `kpieval merge`\n"
    "  --wait                wait while another run writes the same --out\n"
    "  --max-errors N        more than N KPIs in error: write nothing, exit 2\n"
    "  --log json            events as JSON lines on stderr, for log collectors\n"
    "  --quiet               print only errors (and no progress bar)\n"
    "\n"
    "exit status: 0 all KPIs ok, 1 some KPIs not ok (reports written),\n"
    "2 usage or input error (nothing written)\n";

struct cli {
    FILE *out, *errs;
    struct kpi_run_options opt;
    const char *formula_dirs[64];
    bool quiet, log_json, bar;
    double started, last_bar;
    size_t last_done;
};

/* ---- what people read ---------------------------------------------------
 *
 * Text from the inputs, the command line and formulas reaches stdout and
 * stderr only through put_visible(), in the visible form of text.h: a
 * control character or a byte that is not UTF-8 shows as \xHH, so none can
 * drive the terminal or forge a line of its own. The only control
 * characters written are this file's own: the newline ending each line and
 * the progress bar's "\r\033[K".
 */

static void put_visible(FILE *f, const char *s)
{
    size_t len = strlen(s);
    while (len) {
        char esc[KPI_VISIBLE_ESCAPE_BUF];
        size_t n = kpi_text_visible_span(s, len);
        fwrite(s, 1, n, f);
        s += n, len -= n;
        if (!len)
            break;
        n = kpi_text_visible_escape(s, len, esc);
        fputs(esc, f);
        s += n, len -= n;
    }
}

/* One line of text: fmt's expansion in its visible form, then '\n'. */
static void vprint_line(FILE *f, const char *fmt, va_list ap)
{
    char small[1024], *line = small;
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small) {
        line = malloc((size_t)n + 1);
        if (line)
            vsnprintf(line, (size_t)n + 1, fmt, again);
        else
            line = small; /* out of memory: the line, cut short */
    }
    va_end(again);
    if (n >= 0)
        put_visible(f, line);
    putc('\n', f);
    if (line != small)
        free(line);
}

static void print_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void print_line(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_line(f, fmt, ap);
    va_end(ap);
}

static int usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    fputs("kpieval: ", c->errs);
    va_start(ap, fmt);
    vprint_line(c->errs, fmt, ap);
    va_end(ap);
    putc('\n', c->errs);
    fputs(usage_text, c->errs);
    return KPI_EXIT_INPUT;
}

/* ---- option values ------------------------------------------------------ */

static bool parse_positive(const char *s, double *out)
{
    return kpi_text_parse_number(s, out) == KPI_NUMBER_OK && *out > 0;
}

static bool all_digits_then(const char *s, const char *suffixes)
{
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return !*s || (s[1] == '\0' && strchr(suffixes, *s));
}

static bool parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!all_digits_then(s, ""))
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0)
        return false;
    *out = v;
    return true;
}

static bool parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!all_digits_then(s, "KkMmGg"))
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024ULL, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024ULL * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024ULL * 1024 * 1024, end++;
    if (errno || *end || v == 0 || v > SIZE_MAX / mult)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

/* Parses options after the subcommand; DATASET is the one operand. */
static int parse_options(struct cli *c, int argc, char **argv, bool allow_out)
{
    struct kpi_error err;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = true;

        if (!strcmp(a, "--quiet")) {
            c->quiet = true;
            takes_value = false;
        } else if (!strcmp(a, "--in-process")) {
            c->opt.in_process = true;
            takes_value = false;
        } else if (!strcmp(a, "--wait")) {
            c->opt.wait = true;
            takes_value = false;
        } else if (a[0] != '-' || !strcmp(a, "-")) {
            if (c->opt.dataset)
                return usage_error(c, "more than one dataset given ('%s')", a);
            c->opt.dataset = a;
            takes_value = false;
        } else if (!v) {
            return usage_error(c, "option '%s' needs a value", a);
        } else if (!strcmp(a, "--out") && allow_out) {
            c->opt.out = v;
        } else if (!strcmp(a, "--period")) {
            c->opt.period = v;
        } else if (!strcmp(a, "--cap")) {
            if (!parse_positive(v, &c->opt.cap))
                return usage_error(c, "--cap '%s': expected a number > 0", v);
        } else if (!strcmp(a, "--grades")) {
            if (kpi_grades_parse(v, &c->opt.grades, &err))
                return usage_error(c, "%s", err.message);
        } else if (!strcmp(a, "--formulas")) {
            if (c->opt.n_formula_dirs == sizeof c->formula_dirs / sizeof c->formula_dirs[0])
                return usage_error(c, "too many --formulas folders (at '%s')", v);
            c->formula_dirs[c->opt.n_formula_dirs++] = v;
        } else if (!strcmp(a, "--max-instructions")) {
            if (!parse_count(v, &c->opt.instruction_limit))
                return usage_error(c, "--max-instructions '%s': expected a whole number > 0", v);
        } else if (!strcmp(a, "--time-limit")) {
            if (!parse_positive(v, &c->opt.time_limit) || c->opt.time_limit > 86400)
                return usage_error(c, "--time-limit '%s': expected seconds, > 0 and <= 86400", v);
        } else if (!strcmp(a, "--jobs")) {
            uint64_t jobs;
            if (!parse_count(v, &jobs) || jobs > 256)
                return usage_error(c, "--jobs '%s': expected a whole number from 1 to 256", v);
            c->opt.jobs = (unsigned)jobs;
        } else if (!strcmp(a, "--max-errors")) {
            uint64_t n = 0;
            if (strcmp(v, "0") && (!parse_count(v, &n) || n > SIZE_MAX))
                return usage_error(c, "--max-errors '%s': expected a whole number >= 0", v);
            c->opt.has_max_errors = true;
            c->opt.max_errors = (size_t)n;
        } else if (!strcmp(a, "--reports") && allow_out) {
            if (kpi_report_select(v, &c->opt.reports, &err))
                return usage_error(c, "%s", err.message);
        } else if (!strcmp(a, "--log")) {
            if (strcmp(v, "json") && strcmp(v, "text"))
                return usage_error(c, "--log '%s': expected 'json' or 'text'", v);
            c->log_json = !strcmp(v, "json");
        } else if (!strcmp(a, "--shard") && allow_out) {
            unsigned si = 0, sn = 0;
            size_t d1 = strspn(v, "0123456789");
            size_t d2 = v[d1] == '/' ? strspn(v + d1 + 1, "0123456789") : 0;
            if (!d1 || d1 > 6 || !d2 || d2 > 6 || v[d1 + 1 + d2] ||
                sscanf(v, "%u/%u", &si, &sn) != 2 || sn < 1 || sn > KPI_SHARDS_MAX || si < 1 ||
                si > sn)
                return usage_error(c, "--shard '%s': expected I/N with 1 <= I <= N, e.g. 2/8",
                                   v);
            c->opt.shard_index = si;
            c->opt.shard_count = sn;
        } else if (!strcmp(a, "--max-memory")) {
            if (!parse_bytes(v, &c->opt.memory_limit))
                return usage_error(c, "--max-memory '%s': expected bytes, e.g. 32M", v);
        } else {
            return usage_error(c, "unknown option '%s'", a);
        }
        if (takes_value)
            i++;
    }
    if (!c->opt.dataset)
        return usage_error(c, "%s", "no dataset folder given");
    if (allow_out && !c->opt.out)
        return usage_error(c, "%s", "--out DIR is required");
    return 0;
}

/* ---- progress and logs -------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts a --log json line: {"time": "...", "event": "NAME" */
static void log_begin(struct cli *c, const char *event)
{
    struct timeval tv;
    struct tm tm;
    char when[32] = "";
    gettimeofday(&tv, NULL);
    if (gmtime_r(&tv.tv_sec, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(c->errs, "{\"time\": \"%s.%03dZ\", \"event\": \"%s\"", when,
            (int)(tv.tv_usec / 1000), event);
}

static void log_end(struct cli *c)
{
    fputs("}\n", c->errs);
    fflush(c->errs);
}

static void log_counts(struct cli *c, const struct kpi_department_summary *s)
{
    fprintf(c->errs, ", \"kpis\": %u, \"ok\": %u, \"missing\": %u, \"error\": %u, \"invalid\": %u",
            s->kpis, s->count[KPI_STATUS_OK], s->count[KPI_STATUS_MISSING],
            s->count[KPI_STATUS_ERROR], s->count[KPI_STATUS_INVALID]);
}

static void log_message(struct cli *c, const char *event, const char *message)
{
    log_begin(c, event);
    fputs(", \"message\": ", c->errs);
    kpi_json_put_string(c->errs, message);
    log_end(c);
}

static void clear_bar(struct cli *c)
{
    if (c->bar && c->last_bar > 0) {
        fputs("\r\033[K", c->errs);
        fflush(c->errs);
        c->last_bar = 0;
    }
}

static void on_phase_start(void *ctx, enum kpi_phase phase)
{
    struct cli *c = ctx;
    if (c->bar) {
        fprintf(c->errs, "\r\033[Kkpieval: %s...", phase == KPI_PHASE_LOAD       ? "loading"
                                                   : phase == KPI_PHASE_EVALUATE ? "evaluating"
                                                   : phase == KPI_PHASE_WRITE    ? "writing"
                                                   : phase == KPI_PHASE_ROLLUP   ? "rolling up"
                                                                                 : "scoring");
        fflush(c->errs);
        c->last_bar = now_seconds();
        c->started = c->last_bar;
        c->last_done = 0;
    }
}

static void on_phase_end(void *ctx, enum kpi_phase phase, double seconds, size_t items)
{
    struct cli *c = ctx;
    clear_bar(c);
    if (c->log_json) {
        log_begin(c, "phase");
        struct rusage ru;
        fprintf(c->errs, ", \"phase\": \"%s\", \"seconds\": %.3f, \"items\": %zu",
                kpi_phase_name(phase), seconds, items);
        if (getrusage(RUSAGE_SELF, &ru) == 0) /* the peak so far, of this process */
            fprintf(c->errs, ", \"max_rss_mib\": %.1f", (double)ru.ru_maxrss / 1024);
        log_end(c);
    }
}

/* KPIs done, a bar, the rate and the time left, at most ten times a second. */
static void on_progress(void *ctx, size_t done, size_t total)
{
    struct cli *c = ctx;
    double now = now_seconds(), elapsed = now - c->started;
    char bar[21];
    if (!c->bar || now - c->last_bar < 0.1 || !total)
        return;
    c->last_bar = now;
    size_t filled = done * 20 / total;
    for (size_t i = 0; i < 20; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    fprintf(c->errs, "\r\033[Kkpieval: evaluating [%s] %3zu%% %zu/%zu KPIs", bar,
            done * 100 / total, done, total);
    if (rate > 0)
        fprintf(c->errs, ", %.0f/s, %.0f s left", rate, (double)(total - done) / rate);
    fflush(c->errs);
}

/* ---- printing ----------------------------------------------------------- */

/* Columns valid UTF-8 text s[0..len) takes in a terminal: East Asian wide
 * characters (Hangul, CJK) take two. */
static int display_width(const char *s, size_t len)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned cp;
        int n;
        if (*p < 0x80)
            cp = *p, n = 1;
        else if ((*p & 0xE0) == 0xC0)
            cp = *p & 0x1F, n = 2;
        else if ((*p & 0xF0) == 0xE0)
            cp = *p & 0x0F, n = 3;
        else
            cp = *p & 0x07, n = 4;
        for (int k = 1; k < n && p + k < end; k++)
            cp = (cp << 6) | (p[k] & 0x3F);
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6);
        w += wide ? 2 : 1;
        for (int k = 0; k < n && p < end; k++)
            p++;
    }
    return w;
}

/* Columns s takes as put_visible() writes it. */
static int visible_width(const char *s)
{
    size_t len = strlen(s);
    int w = 0;
    while (len) {
        char esc[KPI_VISIBLE_ESCAPE_BUF];
        size_t n = kpi_text_visible_span(s, len);
        w += display_width(s, n);
        s += n, len -= n;
        if (!len)
            break;
        n = kpi_text_visible_escape(s, len, esc);
        w += (int)strlen(esc);
        s += n, len -= n;
    }
    return w;
}

static void pad(FILE *f, int n)
{
    while (n-- > 0)
        putc(' ', f);
}

static void print_summary(struct cli *c, const struct kpi_run *run)
{
    size_t n_deps;
    const struct kpi_department *deps = kpi_dataset_departments(run->ds, &n_deps);
    const struct kpi_department_summary *all = &run->overall;
    const char *period = kpi_dataset_period(run->ds);
    char rate[KPI_RATE_BUF];
    int name_w = (int)strlen("department");

    for (size_t d = 0; d < n_deps; d++) {
        int w = 2 * (int)deps[d].depth + visible_width(deps[d].name);
        if (w > name_w)
            name_w = w;
    }
    if (name_w > 60)
        name_w = 60;
    print_line(c->out, "%u KPIs%s%s%s: %u ok, %u missing, %u error, %u invalid", all->kpis,
               period ? " for period '" : "", period ? period : "", period ? "'" : "",
               all->count[KPI_STATUS_OK], all->count[KPI_STATUS_MISSING],
               all->count[KPI_STATUS_ERROR], all->count[KPI_STATUS_INVALID]);
    putc('\n', c->out);
    fputs("department", c->out);
    pad(c->out, name_w - (int)strlen("department"));
    fputs("   KPIs    ok  not ok  achievement  grade\n", c->out);
    for (size_t d = 0; d <= n_deps; d++) {
        const struct kpi_department_summary *s = d < n_deps ? &run->departments[d] : all;
        const char *label = d < n_deps ? deps[d].name : "(all departments)";
        int indent = d < n_deps ? 2 * (int)deps[d].depth : 0;
        if (d == n_deps)
            putc('\n', c->out);
        pad(c->out, indent);
        put_visible(c->out, label);
        pad(c->out, name_w - indent - visible_width(label));
        fprintf(c->out, " %6u %5u %7u %12s  ", s->kpis, s->count[KPI_STATUS_OK],
                s->kpis - s->count[KPI_STATUS_OK],
                s->has_achievement ? kpi_text_format_rate(s->achievement, rate) : "-");
        put_visible(c->out, s->has_achievement && *s->grade ? s->grade : "-");
        putc('\n', c->out);
    }
}

static void print_failures(struct cli *c, const struct kpi_run *run)
{
    size_t n, shown = 0, failed = 0;
    const struct kpi_indicator *ks = kpi_dataset_indicators(run->ds, &n);
    struct kpi_result *rows = kpi_results_rows(run->results, &n);

    for (size_t i = 0; i < n; i++) {
        if (rows[i].status == KPI_STATUS_OK)
            continue;
        failed++;
        if (shown++ >= FAILURES_SHOWN)
            continue;
        if (c->log_json) {
            log_begin(c, "kpi");
            fputs(", \"id\": ", c->errs);
            kpi_json_put_string(c->errs, ks[i].id);
            fprintf(c->errs, ", \"status\": \"%s\", \"message\": ", kpi_status_name(rows[i].status));
            kpi_json_put_string(c->errs, rows[i].message ? rows[i].message : "");
            log_end(c);
        } else {
            print_line(c->errs, "kpieval: %s %s: %s", kpi_status_name(rows[i].status), ks[i].id,
                       rows[i].message ? rows[i].message : "");
        }
    }
    if (c->log_json) {
        log_begin(c, "counts");
        log_counts(c, &run->overall);
        fprintf(c->errs, ", \"not_ok_shown\": %zu", shown < FAILURES_SHOWN ? shown : FAILURES_SHOWN);
        log_end(c);
    } else if (failed > FAILURES_SHOWN)
        print_line(c->errs, "kpieval: ... and %zu more KPIs not ok (see kpis.csv)",
                   failed - FAILURES_SHOWN);
}

static void print_warnings(struct cli *c, const struct kpi_run *run)
{
    size_t n, total;
    const char *const *w = kpi_dataset_warnings(run->ds, &n, &total);
    for (size_t i = 0; i < n && i < FAILURES_SHOWN; i++) {
        if (c->log_json)
            log_message(c, "warning", w[i]);
        else
            print_line(c->errs, "kpieval: warning: %s", w[i]);
    }
    if (total > FAILURES_SHOWN && !c->log_json)
        print_line(c->errs, "kpieval: ... and %zu more warnings (see report.json)",
                   total - FAILURES_SHOWN);
}

/* ---- subcommands -------------------------------------------------------- */

static int evaluate(struct cli *c, int argc, char **argv, bool write)
{
    struct kpi_run run;
    struct kpi_error err = {0, ""};
    char out[4096];
    int rc = parse_options(c, argc, argv, write);

    if (rc)
        return rc;
    if (c->opt.out) {
        /* "out/" and "out" are the same folder; the staging folder must
         * sit beside it, not inside. */
        snprintf(out, sizeof out, "%s", c->opt.out);
        for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
            out[n - 1] = '\0';
        c->opt.out = out;
    }
    struct kpi_run_observer observer = {c, on_phase_start, on_phase_end, on_progress};
    double t0 = now_seconds();
    c->bar = !c->quiet && !c->log_json && isatty(fileno(c->errs));
    c->opt.observer = &observer;
    if (c->log_json) {
        log_begin(c, "start");
        fputs(", \"command\": ", c->errs);
        kpi_json_put_string(c->errs, write ? "run" : "check");
        fputs(", \"dataset\": ", c->errs);
        kpi_json_put_string(c->errs, c->opt.dataset);
        if (c->opt.out) {
            fputs(", \"out\": ", c->errs);
            kpi_json_put_string(c->errs, c->opt.out);
        }
        if (c->opt.shard_count)
            fprintf(c->errs, ", \"shard\": \"%u/%u\"", c->opt.shard_index, c->opt.shard_count);
        fprintf(c->errs, ", \"pid\": %ld, \"version\": \"%s\"", (long)getpid(), KPIEVAL_VERSION);
        log_end(c);
    }
    kpi_run_init(&run);
    rc = kpi_run_execute(&c->opt, &run, &err);
    clear_bar(c);
    if (rc && !(rc == KPI_ELIMIT && run.results)) {
        if (c->log_json) {
            log_message(c, "error", err.message);
            log_begin(c, "finish");
            fprintf(c->errs, ", \"exit\": %d, \"seconds\": %.3f", KPI_EXIT_INPUT,
                    now_seconds() - t0);
            log_end(c);
        } else {
            print_line(c->errs, "kpieval: error: %s", err.message);
        }
        kpi_run_release(&run);
        return KPI_EXIT_INPUT;
    }
    print_warnings(c, &run);
    print_failures(c, &run);
    if (rc) { /* too many errors: the failures are shown, nothing written */
        if (c->log_json)
            log_message(c, "error", err.message);
        else
            print_line(c->errs, "kpieval: error: %s", err.message);
    }
    if (!c->quiet && !rc) {
        print_summary(c, &run);
        if (c->opt.out) {
            size_t n_writers, shown = 0;
            const struct kpi_writer *w = kpi_report_writers(&n_writers);
            fputs("\nreports:", c->out);
            for (size_t i = 0; i < n_writers; i++)
                if (w[i].optional && (!c->opt.reports || (c->opt.reports & (1u << i)))) {
                    fputs(shown++ ? ", " : " ", c->out);
                    put_visible(c->out, c->opt.out);
                    fprintf(c->out, "/%s", w[i].name);
                }
            putc('\n', c->out);
        }
    }
    rc = rc ? KPI_EXIT_INPUT
            : run.overall.count[KPI_STATUS_OK] == run.overall.kpis ? KPI_EXIT_OK : KPI_EXIT_KPIS;
    if (c->log_json) {
        log_begin(c, "finish");
        fprintf(c->errs, ", \"exit\": %d, \"seconds\": %.3f", rc, now_seconds() - t0);
        log_counts(c, &run.overall);
        if (run.overall.has_achievement) {
            fprintf(c->errs, ", \"achievement\": %.17g, \"grade\": ", run.overall.achievement);
            kpi_json_put_string(c->errs, run.overall.grade);
        }
        log_end(c);
    }
    kpi_run_release(&run);
    return rc;
}

static int cmd_run(struct cli *c, int argc, char **argv)
{
    return evaluate(c, argc, argv, true);
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
    return evaluate(c, argc, argv, false);
}

/* kpieval merge OUT PART...: one report from the partial reports of a
 * sharded run. */
static int cmd_merge(struct cli *c, int argc, char **argv)
{
    struct kpi_error err;
    struct kpi_department_summary all;
    struct kpi_grades grades;
    const char **parts = calloc((size_t)argc, sizeof *parts);
    const char *out = NULL;
    size_t n = 0;
    char rate[KPI_RATE_BUF];
    int rc;

    if (!parts) {
        fputs("kpieval: error: out of memory\n", c->errs);
        return KPI_EXIT_INPUT;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--quiet"))
            c->quiet = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            free(parts);
            return usage_error(c, "unknown option '%s'", argv[i]);
        } else if (!out)
            out = argv[i];
        else
            parts[n++] = argv[i];
    }
    if (!out || !n) {
        free(parts);
        return usage_error(c, "%s", "merge needs an output folder and at least one part");
    }
    rc = kpi_report_merge(out, parts, n, &grades, &all, &err);
    free(parts);
    if (rc) {
        print_line(c->errs, "kpieval: error: %s", err.message);
        return KPI_EXIT_INPUT;
    }
    if (!c->quiet) {
        print_line(c->out, "%u KPIs: %u ok, %u missing, %u error, %u invalid; achievement %s%s%s",
                   all.kpis, all.count[KPI_STATUS_OK], all.count[KPI_STATUS_MISSING],
                   all.count[KPI_STATUS_ERROR], all.count[KPI_STATUS_INVALID],
                   all.has_achievement ? kpi_text_format_rate(all.achievement, rate) : "-",
                   all.has_achievement && *all.grade ? " " : "",
                   all.has_achievement ? all.grade : "");
        print_line(c->out, "merged %zu partial reports into %s", n, out);
    }
    return all.count[KPI_STATUS_OK] == all.kpis ? KPI_EXIT_OK : KPI_EXIT_KPIS;
}

/* kpieval generate N DIR [--seed S]: a synthetic plan for benchmarks. */
static int cmd_generate(struct cli *c, int argc, char **argv)
{
    struct kpi_error err;
    const char *operands[2] = {NULL, NULL};
    size_t n_operands = 0;
    uint64_t n = 0, seed = KPI_GENERATE_DEFAULT_SEED;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seed")) {
            if (i + 1 == argc)
                return usage_error(c, "%s", "option '--seed' needs a value");
            if (!parse_count(argv[i + 1], &seed) && strcmp(argv[i + 1], "0"))
                return usage_error(c, "--seed '%s': expected a whole number", argv[i + 1]);
            if (!strcmp(argv[i + 1], "0"))
                seed = 0;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error(c, "unknown option '%s'", argv[i]);
        } else if (n_operands == 2) {
            return usage_error(c, "generate: unexpected '%s'", argv[i]);
        } else {
            operands[n_operands++] = argv[i];
        }
    }
    if (n_operands != 2)
        return usage_error(c, "%s", "generate needs N (the number of KPIs) and a folder");
    if (!parse_count(operands[0], &n) || n > 100000000)
        return usage_error(c, "generate: N '%s': expected a whole number from 1 to 100000000",
                           operands[0]);
    if (kpi_generate((unsigned long)n, seed, operands[1], &err)) {
        print_line(c->errs, "kpieval: error: %s", err.message);
        return KPI_EXIT_INPUT;
    }
    return KPI_EXIT_OK;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs(usage_text, c->out);
    return KPI_EXIT_OK;
}

static int cmd_version(struct cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(c->out, "kpieval %s (%s)\n", KPIEVAL_VERSION, LUA_RELEASE);
    return KPI_EXIT_OK;
}

static const struct {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
} commands[] = {
    {"run", cmd_run},         {"check", cmd_check},       {"generate", cmd_generate},
    {"merge", cmd_merge},       {"help", cmd_help},
    {"--help", cmd_help},     {"-h", cmd_help},           {"version", cmd_version},
    {"--version", cmd_version},
};

int kpi_cli_main(int argc, char **argv, FILE *out, FILE *errs)
{
    struct cli c = {.out = out, .errs = errs};
    struct kpi_error err;
    struct kpi_stdlib stdlib;

    c.opt.cap = KPI_DEFAULT_CAP;
    c.opt.formula_dirs = c.formula_dirs;
    /* Not found stops only the commands that evaluate, saying where it looked. */
    kpi_stdlib_find(getenv(KPI_STDLIB_ENV), NULL, &stdlib);
    c.opt.stdlib_dir = stdlib.dir;
    c.opt.stdlib_missing = stdlib.dir ? NULL : stdlib.error.message;
    kpi_grades_parse(KPI_DEFAULT_GRADES, &c.opt.grades, &err);
    if (argc < 2)
        return usage_error(&c, "%s", "no command given");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(&c, argc, argv);
    }
    return usage_error(&c, "unknown command '%s'", argv[1]);
}
