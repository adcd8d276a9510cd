#include "cli.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>

#include "kpieval/catalog.h"
#include "kpieval/check.h"
#include "kpieval/formula_test.h"
#include "kpieval/generate.h"
#include "kpieval/run.h"
#include "kpieval/trial.h"
#include "kpieval/score.h"
#include "stdlib_path.h"
#include "text.h"
#include "options.h"
#include "writers.h"

#ifndef KPIEVAL_VERSION
#define KPIEVAL_VERSION "0.1.0"
#endif

#define FAILURES_SHOWN 20
/* Findings of `check` shown in full, of each severity (all are counted). */
#define FINDINGS_SHOWN 100

struct cli {
    FILE *out, *errs;
    struct kpi_command_line cl; /* what argv asks for: options.h */
    struct kpi_provenance provenance; /* version and command line, for the reports */
    bool bar;
    double started, last_bar;
    size_t last_done;
    size_t shown[2];  /* check's findings printed, by enum kpi_severity */
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

/* A usage error: the message, then where to read more, not the whole usage. */
static int usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    fputs("kpieval: ", c->errs);
    va_start(ap, fmt);
    vprint_line(c->errs, fmt, ap);
    va_end(ap);
    if (c->cl.command)
        fprintf(c->errs, "see 'kpieval %s --help'\n", c->cl.command->name);
    else
        fputs("see 'kpieval help'\n", c->errs);
    return KPI_EXIT_INPUT;
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
    fprintf(c->errs, ", \"kpis\": %u", s->kpis);
    for (int st = 0; st < KPI_STATUS_COUNT; st++)
        fprintf(c->errs, ", \"%s\": %u", kpi_status_name((enum kpi_status)st), s->count[st]);
}

static void log_message(struct cli *c, const char *event, const char *message)
{
    log_begin(c, event);
    fputs(", \"message\": ", c->errs);
    kpi_json_put_string(c->errs, message);
    log_end(c);
}

/* A library error, for people or as a --log json event. The library says
 * which run setting an error concerns; options.c names the option that
 * sets it. An event also carries the error's place, so a program reads
 * file, line, column and KPI without taking the message apart. */
static void print_error(struct cli *c, const struct kpi_error *err)
{
    char text[KPI_OPTIONS_EXPLAIN_MAX];
    const struct kpi_option *o = kpi_options_for_setting(err->setting);

    kpi_options_explain(c->cl.command, err, text, sizeof text);
    if (!c->cl.log_json) {
        print_line(c->errs, "kpieval: error: %s", text);
        return;
    }
    log_begin(c, "error");
    fputs(", \"message\": ", c->errs);
    kpi_json_put_string(c->errs, text);
    if (*err->file) {
        fputs(", \"file\": ", c->errs);
        kpi_json_put_string(c->errs, err->file);
    }
    if (err->line)
        fprintf(c->errs, ", \"line\": %u", err->line);
    if (err->column)
        fprintf(c->errs, ", \"column\": %u", err->column);
    if (*err->kpi) {
        fputs(", \"kpi\": ", c->errs);
        kpi_json_put_string(c->errs, err->kpi);
    }
    if (o)
        fprintf(c->errs, ", \"option\": \"%s\"", o->name);
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
    if (c->cl.log_json) {
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
    int name_w = (int)strlen("(all departments)"); /* the last row's label */

    for (size_t d = 0; d < n_deps; d++) {
        int w = 2 * (int)deps[d].depth + visible_width(deps[d].name);
        if (w > name_w)
            name_w = w;
    }
    if (name_w > 60)
        name_w = 60;
    char counts[160];
    size_t used = 0;
    for (int st = 0; st < KPI_STATUS_COUNT; st++)
        used += (size_t)snprintf(counts + used, sizeof counts - used, "%s%u %s", st ? ", " : "",
                                 all->count[st], kpi_status_name((enum kpi_status)st));
    print_line(c->out, "%u KPIs%s%s%s: %s", all->kpis, period ? " for period '" : "",
               period ? period : "", period ? "'" : "", counts);
    putc('\n', c->out);
    fputs("department", c->out);
    pad(c->out, name_w - (int)strlen("department"));
    fputs("   KPIs    ok  not ok  coverage  achievement  grade\n", c->out);
    for (size_t d = 0; d <= n_deps; d++) {
        const struct kpi_department_summary *s = d < n_deps ? &run->departments[d] : all;
        const char *label = d < n_deps ? deps[d].name : "(all departments)";
        int indent = d < n_deps ? 2 * (int)deps[d].depth : 0;
        if (d == n_deps)
            putc('\n', c->out);
        pad(c->out, indent);
        put_visible(c->out, label);
        pad(c->out, name_w - indent - visible_width(label));
        fprintf(c->out, " %6u %5u %7u %9s", s->kpis, s->count[KPI_STATUS_OK],
                s->kpis - s->count[KPI_STATUS_OK],
                s->has_coverage ? kpi_text_format_rate(s->coverage * 100, rate) : "-");
        fprintf(c->out, " %12s  ",
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
        if (c->cl.log_json) {
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
    if (c->cl.log_json) {
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
        if (c->cl.log_json)
            log_message(c, "warning", w[i]);
        else
            print_line(c->errs, "kpieval: warning: %s", w[i]);
    }
    if (total > FAILURES_SHOWN && !c->cl.log_json)
        print_line(c->errs, "kpieval: ... and %zu more warnings (see report.json)",
                   total - FAILURES_SHOWN);
}

/* ---- subcommands -------------------------------------------------------- */

static int evaluate(struct cli *c, bool write)
{
    struct kpi_run run;
    struct kpi_error err = {0};
    char out[4096];
    int rc;

    c->cl.run.dataset = c->cl.operands[0];
    if (c->cl.run.out) {
        /* "out/" and "out" are the same folder; the staging folder must
         * sit beside it, not inside. */
        snprintf(out, sizeof out, "%s", c->cl.run.out);
        for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
            out[n - 1] = '\0';
        c->cl.run.out = out;
    }
    struct kpi_run_observer observer = {c, on_phase_start, on_phase_end, on_progress};
    double t0 = now_seconds();
    c->bar = !c->cl.quiet && !c->cl.log_json && isatty(fileno(c->errs));
    c->cl.run.observer = &observer;
    if (c->cl.log_json) {
        log_begin(c, "start");
        fputs(", \"command\": ", c->errs);
        kpi_json_put_string(c->errs, write ? "run" : "check");
        fputs(", \"dataset\": ", c->errs);
        kpi_json_put_string(c->errs, c->cl.run.dataset);
        if (c->cl.run.out) {
            fputs(", \"out\": ", c->errs);
            kpi_json_put_string(c->errs, c->cl.run.out);
        }
        if (c->cl.run.shard_count)
            fprintf(c->errs, ", \"shard\": \"%u/%u\"", c->cl.run.shard_index, c->cl.run.shard_count);
        fprintf(c->errs, ", \"pid\": %ld, \"version\": \"%s\"", (long)getpid(), KPIEVAL_VERSION);
        log_end(c);
    }
    kpi_run_init(&run);
    if (write)
        c->cl.run.provenance = &c->provenance;
    rc = kpi_run_execute(&c->cl.run, &run, &err);
    clear_bar(c);
    if (rc && !(rc == KPI_ELIMIT && run.results)) {
        print_error(c, &err);
        if (c->cl.log_json) {
            log_begin(c, "finish");
            fprintf(c->errs, ", \"exit\": %d, \"seconds\": %.3f", KPI_EXIT_INPUT,
                    now_seconds() - t0);
            log_end(c);
        }
        kpi_run_release(&run);
        return KPI_EXIT_INPUT;
    }
    if (write) /* check --evaluate printed them as findings already */
        print_warnings(c, &run);
    print_failures(c, &run);
    if (rc) /* too many errors: the failures are shown, nothing written */
        print_error(c, &err);
    if (!c->cl.quiet && !rc) {
        print_summary(c, &run);
        if (c->cl.run.out) {
            size_t shown = 0;
            fputs("\nreports:", c->out);
            for (size_t i = 0; i < kpi_report_sinks(); i++) {
                const struct kpi_sink *s = kpi_report_sink(i);
                if ((s->flags & KPI_SINK_OPTIONAL) &&
                    (!c->cl.run.reports || (c->cl.run.reports & (1u << i)))) {
                    fputs(shown++ ? ", " : " ", c->out);
                    put_visible(c->out, c->cl.run.out);
                    fputc('/', c->out);
                    put_visible(c->out, s->name);
                }
            }
            putc('\n', c->out);
        }
    }
    rc = rc ? KPI_EXIT_INPUT
            : run.overall.count[KPI_STATUS_OK] == run.overall.kpis ? KPI_EXIT_OK : KPI_EXIT_KPIS;
    if (c->cl.log_json) {
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

static int cmd_run(struct cli *c)
{
    return evaluate(c, true);
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* One finding of check, as compilers print them:
 *   FILE:LINE:COLUMN: error: MESSAGE
 *       the formula's line
 *       ^~~~~~~ under the spot
 *       names there: ...          */
static void print_diagnostic(void *ctx, const struct kpi_diagnostic *d)
{
    struct cli *c = ctx;
    const char *sev = d->severity == KPI_SEVERITY_ERROR ? "error" : "warning";
    const struct kpi_option *o = kpi_options_for_setting(d->setting);
    char where[4400] = "kpieval: ", text[KPI_OPTIONS_EXPLAIN_MAX];
    struct kpi_error e = {.setting = d->setting};

    /* "(see --period)" after a message a setting would mend */
    snprintf(e.message, sizeof e.message, "%s", d->message);
    kpi_options_explain(c->cl.command, &e, text, sizeof text);

    if (d->file && d->line && d->column)
        snprintf(where, sizeof where, "%s:%u:%u: ", d->file, d->line, d->column);
    else if (d->file && d->line)
        snprintf(where, sizeof where, "%s:%u: ", d->file, d->line);
    else if (d->file)
        snprintf(where, sizeof where, "%s: ", d->file);
    if (c->cl.log_json) {
        log_begin(c, sev);
        fputs(", \"message\": ", c->errs);
        kpi_json_put_string(c->errs, text);
        if (d->file) {
            fputs(", \"file\": ", c->errs);
            kpi_json_put_string(c->errs, d->file);
        }
        if (d->line)
            fprintf(c->errs, ", \"line\": %u", d->line);
        if (d->column)
            fprintf(c->errs, ", \"column\": %u", d->column);
        if (o)
            fprintf(c->errs, ", \"option\": \"%s\"", o->name);
        log_end(c);
        return;
    }
    if (c->shown[d->severity]++ >= FINDINGS_SHOWN)
        return;
    fputs(where, c->errs);
    fprintf(c->errs, "%s: ", sev);
    put_visible(c->errs, text);
    putc('\n', c->errs);
    if (d->source) {
        char before[1024];
        size_t at = d->span_at < sizeof before ? d->span_at : sizeof before - 1;
        fputs("    ", c->errs);
        put_visible(c->errs, d->source);
        snprintf(before, sizeof before, "%.*s", (int)at, d->source);
        fprintf(c->errs, "\n    %*s^", visible_width(before), "");
        for (size_t i = 1; i < d->span_len; i++)
            putc('~', c->errs);
        putc('\n', c->errs);
    }
    if (d->names && *d->names) {
        fputs("    names there: ", c->errs);
        put_visible(c->errs, d->names);
        putc('\n', c->errs);
    }
}

/* kpieval check DATASET: what a run would reject or warn about, without
 * evaluating; exit 0 clean, 1 warnings only, 2 errors. With --evaluate,
 * then the evaluation as a run does it, writing nothing. */
static int cmd_check(struct cli *c)
{
    struct kpi_check_counts counts;
    struct kpi_error err = {0};
    int rc;

    c->cl.run.dataset = c->cl.operands[0];
    if (kpi_check(&c->cl.run, print_diagnostic, c, &counts, &err)) {
        print_error(c, &err);
        return KPI_EXIT_INPUT;
    }
    rc = counts.errors ? KPI_EXIT_INPUT : counts.warnings ? KPI_EXIT_KPIS : KPI_EXIT_OK;
    for (int sev = 0; sev < 2 && !c->cl.log_json; sev++)
        if (c->shown[sev] > FINDINGS_SHOWN)
            print_line(c->errs, "kpieval: ... and %zu more %s not shown (--log json lists all)",
                       c->shown[sev] - FINDINGS_SHOWN, sev ? "warnings" : "errors");
    if (!c->cl.quiet && !c->cl.log_json && counts.kpis)
        print_line(c->out, "checked %zu KPI%s, %zu distinct expression%s, %zu plugin file%s: "
                           "%zu error%s, %zu warning%s",
                   counts.kpis, plural(counts.kpis), counts.expressions,
                   plural(counts.expressions), counts.plugins, plural(counts.plugins),
                   counts.errors, plural(counts.errors), counts.warnings,
                   plural(counts.warnings));
    if (c->cl.evaluate) {
        if (!c->cl.quiet && !c->cl.log_json)
            putc('\n', c->out);
        int erc = evaluate(c, false);
        if (erc > rc)
            rc = erc;
    }
    return rc;
}

/* kpieval merge OUT PART...: one report from the partial reports of a
 * sharded run. */
static int cmd_merge(struct cli *c)
{
    struct kpi_error err;
    struct kpi_department_summary all;
    struct kpi_grades grades;
    const char *out = c->cl.operands[0];
    const char *const *parts = c->cl.operands + 1;
    size_t n = c->cl.n_operands - 1;
    char rate[KPI_RATE_BUF];

    if (kpi_report_merge(out, parts, n, &c->provenance, &grades, &all, &err)) {
        print_error(c, &err);
        return KPI_EXIT_INPUT;
    }
    if (!c->cl.quiet) {
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
static int cmd_generate(struct cli *c)
{
    struct kpi_error err;
    const char *count = c->cl.operands[0];
    uint64_t n = 0;

    if (!kpi_options_parse_count(count, &n) || n > 100000000)
        return usage_error(c, "generate: N '%s': expected a whole number from 1 to 100000000",
                           count);
    if (kpi_generate((unsigned long)n, c->cl.seed, c->cl.operands[1], &err)) {
        print_error(c, &err);
        return KPI_EXIT_INPUT;
    }
    return KPI_EXIT_OK;
}

/* ---- formulas by hand: eval, formulas, test ------------------------------ */

/* The standard library's folder, or the error that says where it was
 * looked for (and false). */
static bool have_stdlib(struct cli *c)
{
    if (c->cl.run.stdlib_dir)
        return true;
    print_line(c->errs, "kpieval: error: %s", c->cl.run.stdlib_missing);
    return false;
}

/* The plugin folders a run would see with the operands as its folders of
 * more formulas: the standard library, then each operand's (a dataset's
 * formulas/ for a dataset folder). Fills f; false after printing why not. */
struct folders {
    const char **dirs; /* n_operands + 1 */
    char (*paths)[KPI_STDLIB_PATH_MAX];
    size_t n;
};

static bool plugin_folders(struct cli *c, struct folders *f, int *rc)
{
    size_t n_dirs = c->cl.n_operands;

    *rc = KPI_EXIT_INPUT;
    f->n = n_dirs + 1;
    f->dirs = calloc(n_dirs + 1, sizeof *f->dirs);
    f->paths = calloc(n_dirs + 1, sizeof *f->paths);
    if (!f->dirs || !f->paths) {
        print_line(c->errs, "kpieval: error: out of memory");
        return false;
    }
    if (!have_stdlib(c))
        return false;
    f->dirs[0] = c->cl.run.stdlib_dir;
    for (size_t i = 0; i < n_dirs; i++) {
        if (!kpi_catalog_plugin_dir(c->cl.operands[i], f->paths[i], sizeof f->paths[i])) {
            *rc = usage_error(c, "folder name too long: '%.80s...'", c->cl.operands[i]);
            return false;
        }
        f->dirs[i + 1] = f->paths[i];
    }
    return true;
}

static void folders_release(struct folders *f)
{
    free(f->dirs);
    free(f->paths);
}

static void trial_options(const struct cli *c, const char *const *folders, size_t n,
                          struct kpi_trial_options *opt)
{
    *opt = (struct kpi_trial_options){
        .plugin_dirs = folders,
        .n_plugin_dirs = n,
        .instruction_limit = c->cl.run.instruction_limit,
        .memory_limit = c->cl.run.memory_limit,
        .time_limit = c->cl.run.time_limit,
        .cap = c->cl.run.cap,
    };
}

/* Under a syntax error "...:1: ... near 'TOKEN'", the formula's line with
 * a caret under TOKEN, when it occurs once on that line (or at the end,
 * for <eof>). */
static void print_caret(struct cli *c, const char *formula, const char *message)
{
    const char *colon = strstr(message, ":");
    const char *near = strstr(message, " near ");
    unsigned long line = colon ? strtoul(colon + 1, NULL, 10) : 0;
    const char *text = formula;

    if (!near || !line)
        return;
    for (unsigned long l = 1; l < line && text; l++)
        if ((text = strchr(text, '\n')))
            text++;
    if (!text || !*text)
        return;
    size_t len = strcspn(text, "\n");
    size_t at = len;
    near += strlen(" near ");
    if (*near == '\'') {
        const char *end = strchr(near + 1, '\'');
        size_t tlen = end ? (size_t)(end - near - 1) : 0;
        const char *hit = NULL;
        for (size_t i = 0; tlen && i + tlen <= len; i++)
            if (!strncmp(text + i, near + 1, tlen)) {
                if (hit)
                    return; /* twice: no telling which */
                hit = text + i;
            }
        if (!hit)
            return;
        at = (size_t)(hit - text);
    } else if (strncmp(near, "<eof>", 5))
        return;
    char shown[1024];
    snprintf(shown, sizeof shown, "%.*s", (int)len, text);
    fputs("    ", c->errs);
    put_visible(c->errs, shown);
    snprintf(shown, sizeof shown, "%.*s", (int)(at < len ? at : len), text);
    fprintf(c->errs, "\n    %*s^\n", visible_width(shown), "");
}

/* kpieval eval EXPR [NAME=VALUE...]: one formula, its value and, with
 * --target, its achievement and band. */
static int cmd_eval(struct cli *c)
{
    const char *expr = c->cl.operands[0];
    size_t n = c->cl.n_operands - 1;
    struct kpi_trial_input *inputs = calloc(n ? n : 1, sizeof *inputs);
    char **copies = calloc(n ? n : 1, sizeof *copies);
    const char *folders[KPI_FORMULA_DIRS_MAX + 1];
    struct kpi_trial_options opt;
    struct kpi_trial_result r;
    struct kpi_error err = {0};
    char num[KPI_NUMBER_BUF], rate[KPI_RATE_BUF];
    int rc = KPI_EXIT_INPUT;

    if (!inputs || !copies) {
        print_line(c->errs, "kpieval: error: out of memory");
        goto out;
    }
    if (!c->cl.target && (c->cl.direction || c->cl.scoring || c->cl.baseline)) {
        rc = usage_error(c, "--direction, --scoring and --baseline score against a --target; "
                            "give one");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(copies[i] = strdup(c->cl.operands[i + 1]))) {
            print_line(c->errs, "kpieval: error: out of memory");
            goto out;
        }
        if (kpi_trial_parse_input(copies[i], &inputs[i], &err)) {
            rc = usage_error(c, "%s", err.message);
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(inputs[j].name, inputs[i].name)) {
                rc = usage_error(c, "input '%s' given twice", inputs[i].name);
                goto out;
            }
    }
    if (!have_stdlib(c))
        goto out;
    folders[0] = c->cl.run.stdlib_dir;
    for (size_t i = 0; i < c->cl.run.n_formula_dirs; i++)
        folders[i + 1] = c->cl.formula_dirs[i];
    trial_options(c, folders, c->cl.run.n_formula_dirs + 1, &opt);
    struct kpi_trial_case tc = {
        .id = "formula", .formula = expr, .inputs = inputs, .n_inputs = n,
        .target = c->cl.target, .direction = c->cl.direction,
        .scoring = c->cl.scoring, .baseline = c->cl.baseline,
    };
    int trc = kpi_trial_run(&opt, &tc, 1, &r, &err);
    if (trc == KPI_EUSAGE) {
        rc = usage_error(c, "%s", err.message);
        goto out;
    } else if (trc) {
        print_error(c, &err);
        goto out;
    }
    if (r.status != KPI_STATUS_OK) {
        print_line(c->errs, "kpieval: %s: %s", kpi_status_name(r.status), r.message);
        if (r.status == KPI_STATUS_INVALID)
            print_caret(c, expr, r.message);
        if (r.status == KPI_STATUS_MISSING) {
            char given[1024] = "";
            size_t used = 0;
            for (size_t i = 0; i < n && used < sizeof given; i++)
                used += (size_t)snprintf(given + used, sizeof given - used, "%s%s",
                                         i ? ", " : "", inputs[i].name);
            print_line(c->errs, "kpieval: inputs given: %s", n ? given : "none");
        }
        if (r.has_value)
            print_line(c->out, "value        %s", kpi_text_format_exact(r.value, num));
        rc = KPI_EXIT_KPIS;
        goto out;
    }
    print_line(c->out, "value        %s", kpi_text_format_exact(r.value, num));
    print_line(c->out, "rounded      %s", kpi_text_format_rate(r.value, rate));
    if (r.scored) {
        print_line(c->out, "achievement  %s", kpi_text_format_rate(r.achievement, rate));
        print_line(c->out, "capped       %s (at %s)",
                   kpi_text_format_rate(r.achievement_capped, rate),
                   kpi_text_format_number(opt.cap, num));
        print_line(c->out, "band         %s", kpi_band_name(r.band));
    }
    rc = KPI_EXIT_OK;
out:
    for (size_t i = 0; copies && i < n; i++)
        free(copies[i]);
    free(copies);
    free(inputs);
    return rc;
}

/* kpieval formulas [DIR...]: each folder's functions, with what shadows
 * what. */
static int cmd_formulas(struct cli *c)
{
    struct folders f;
    kpi_catalog *cat = NULL;
    struct kpi_error err;
    size_t n;
    int rc;

    if (!plugin_folders(c, &f, &rc))
        goto out;
    rc = KPI_EXIT_INPUT;
    if (kpi_catalog_new(f.dirs, f.n, &cat, &err)) {
        print_error(c, &err);
        rc = KPI_EXIT_INPUT;
        goto out;
    }
    const struct kpi_plugin_entry *e = kpi_catalog_entries(cat, &n);
    int width = 0;
    for (size_t i = 0; i < n; i++) {
        int w = visible_width(e[i].name) + 2 + (e[i].params ? visible_width(e[i].params) : 1);
        width = w > width ? w : width;
    }
    for (size_t d = 0, i = 0; d < f.n; d++) {
        print_line(c->out, "%s%s", f.dirs[d], d ? "" : " (standard library)");
        if (i == n || e[i].folder != d)
            print_line(c->out, "  (no formulas)");
        for (; i < n && e[i].folder == d; i++) {
            char sig[512];
            snprintf(sig, sizeof sig, "%s(%s)", e[i].name, e[i].params ? e[i].params : "?");
            fputs("  ", c->out);
            put_visible(c->out, sig);
            pad(c->out, width - visible_width(sig) + 2);
            put_visible(c->out, e[i].description ? e[i].description : e[i].problem);
            putc('\n', c->out);
            if (e[i].shadowed_by != SIZE_MAX)
                print_line(c->out, "    shadowed by %s", e[e[i].shadowed_by].path);
            for (size_t j = 0; j < i; j++)
                if (e[j].shadowed_by == i)
                    print_line(c->out, "    shadows %s", e[j].path);
        }
    }
    rc = KPI_EXIT_OK;
out:
    kpi_catalog_free(cat);
    folders_release(&f);
    return rc;
}

/* One test's outcome, as a unit-test runner reports it. */
static void print_test(struct cli *c, size_t number, const char *file,
                       const struct kpi_formula_test *t)
{
    char num[KPI_NUMBER_BUF], tol[KPI_NUMBER_BUF];

    print_line(c->out, "%sok %zu - %s", t->passed ? "" : "not ", number, t->name);
    if (t->passed)
        return;
    print_line(c->out, "#   at %s:%u: %s", file, t->line, t->formula);
    if (t->kind == KPI_EXPECT_VALUE)
        print_line(c->out, "#   expected: %s (within %s)", kpi_text_format_exact(t->value, num),
                   kpi_text_format_number(t->tolerance, tol));
    else
        print_line(c->out, "#   expected: %s: %s",
                   t->kind == KPI_EXPECT_ERROR ? "error" : "missing", t->text);
    if (t->got.status == KPI_STATUS_OK)
        print_line(c->out, "#   got:      %s", kpi_text_format_exact(t->got.value, num));
    else
        print_line(c->out, "#   got:      %s: %s", kpi_status_name(t->got.status),
                   t->got.message);
}

/* kpieval test [DIR...]: the tests of each DIR's plugin folder (of the
 * standard library without DIR), every test seeing the plugins a run
 * with those folders would. */
static int cmd_test(struct cli *c)
{
    struct folders f;
    struct kpi_trial_options opt;
    struct kpi_error err;
    size_t number = 0, failed = 0, files = 0;
    int rc;

    if (!plugin_folders(c, &f, &rc))
        goto out;
    rc = KPI_EXIT_INPUT;
    trial_options(c, f.dirs, f.n, &opt);
    for (size_t d = f.n > 1 ? 1 : 0; d < f.n; d++) {
        char file[KPI_STDLIB_PATH_MAX + 16];
        kpi_formula_tests *t = NULL;
        size_t n;
        snprintf(file, sizeof file, "%s/%s", f.dirs[d], KPI_FORMULA_TESTS_FILE);
        if (kpi_formula_tests_load(file, file, &t, &err) ||
            kpi_formula_tests_run(t, &opt, &err)) {
            print_error(c, &err);
            kpi_formula_tests_free(t);
            goto out;
        }
        files++;
        print_line(c->out, "# %s", file);
        struct kpi_formula_test *tests = kpi_formula_tests_cases(t, &n);
        for (size_t i = 0; i < n; i++) {
            print_test(c, ++number, file, &tests[i]);
            failed += !tests[i].passed;
        }
        kpi_formula_tests_free(t);
    }
    print_line(c->out, "1..%zu", number);
    print_line(c->out, "# %zu tests in %zu file%s: %zu passed, %zu failed", number, files,
               files == 1 ? "" : "s", number - failed, failed);
    rc = failed ? KPI_EXIT_KPIS : KPI_EXIT_OK;
out:
    folders_release(&f);
    return rc;
}

/* kpieval help [COMMAND]: the general usage, or COMMAND's own. */
static int cmd_help(struct cli *c)
{
    const struct kpi_command *cmd;
    struct kpi_error err;

    if (!c->cl.n_operands) {
        kpi_options_print_usage(c->out);
        return KPI_EXIT_OK;
    }
    if (kpi_options_find_command(c->cl.operands[0], &cmd, &err)) {
        c->cl.command = NULL; /* the hint: see 'kpieval help' */
        return usage_error(c, "%s", err.message);
    }
    kpi_options_print_help(c->out, cmd);
    return KPI_EXIT_OK;
}

static int cmd_version(struct cli *c)
{
    fprintf(c->out, "kpieval %s (%s)\n", KPIEVAL_VERSION, LUA_RELEASE);
    return KPI_EXIT_OK;
}

/* What each row of options.c's commands[] does. */
static int (*const commands[KPI_CMD_COUNT])(struct cli *c) = {
    [KPI_CMD_RUN] = cmd_run,           [KPI_CMD_CHECK] = cmd_check,
    [KPI_CMD_MERGE] = cmd_merge,       [KPI_CMD_GENERATE] = cmd_generate,
    [KPI_CMD_EVAL] = cmd_eval,         [KPI_CMD_FORMULAS] = cmd_formulas,
    [KPI_CMD_TEST] = cmd_test,         [KPI_CMD_HELP] = cmd_help,
    [KPI_CMD_VERSION] = cmd_version,
};

int kpi_cli_main(int argc, char **argv, FILE *out, FILE *errs)
{
    struct cli c = {.out = out, .errs = errs};
    struct kpi_error err;
    struct kpi_stdlib stdlib;
    int rc;

    kpi_options_init(&c.cl);
    kpi_provenance_init(&c.provenance);
    /* Not found stops only the commands that evaluate, saying where it looked. */
    kpi_stdlib_find(getenv(KPI_STDLIB_ENV), NULL, &stdlib);
    c.cl.run.stdlib_dir = stdlib.dir;
    c.cl.run.stdlib_missing = stdlib.dir ? NULL : stdlib.error.message;
    if ((rc = kpi_provenance_set_version(&c.provenance, KPIEVAL_VERSION, &err)) ||
        (rc = kpi_provenance_set_command(&c.provenance, argc, (const char *const *)argv, &err)) ||
        (rc = kpi_options_parse(&c.cl, argc, argv, &err)) == KPI_ENOMEM) {
        /* Not a mistake on the command line: the one error line. */
        print_line(c.errs, "kpieval: error: %s", err.message);
        rc = KPI_EXIT_INPUT;
    } else if (rc)
        rc = usage_error(&c, "%s", err.message);
    else if (c.cl.help) {
        kpi_options_print_help(c.out, c.cl.command);
        rc = KPI_EXIT_OK;
    } else {
        rc = commands[c.cl.command->id](&c);
    }
    kpi_provenance_release(&c.provenance);
    kpi_options_release(&c.cl);
    return rc;
}
