#include "kpieval/evaluate.h"

#include <assert.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "formula.h"
#include "worker.h"

/* Rows live in shared memory (workers) or on the heap (in process). The
 * formula engine and options are held from begin to end. */
struct kpi_results {
    const kpi_dataset *ds;
    kpi_formulas *fe;
    struct kpi_eval_options opt;
    kpi_workers *workers;
    struct kpi_arena arena; /* in-process messages */
    struct kpi_result *rows;
    size_t n;
    size_t done;            /* KPIs evaluated by earlier calls, for progress */
    const char **warnings;  /* in the arena: each broken plugin */
    size_t n_warnings;
};


/* Debugging mode: the KPIs in this process, one sandbox, rebuilt after a
 * limit trip. A formula that crashes Lua crashes the run here. */
static int evaluate_in_process(kpi_results *res, const unsigned *kpis, size_t n,
                               const struct kpi_progress *progress, struct kpi_error *err)
{
    size_t n_all;
    const struct kpi_indicator *ks = kpi_dataset_indicators(res->ds, &n_all);
    char msg[KPI_MESSAGE_MAX];

    for (size_t k = 0; k < n; k++) {
        struct kpi_result *r = &res->rows[kpis[k]];
        assert(kpis[k] < n_all);
        if (progress && progress->report && k % 1024 == 0)
            progress->report(progress->ctx, k, n);
        if (kpi_formulas_eval_kpi(res->fe, &ks[kpis[k]], r, msg)) {
            r->message = kpi_arena_strndup(&res->arena, msg, strlen(msg));
            if (!r->message)
                return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        }
        const char *note = kpi_formulas_note(res->fe);
        if (note && !(r->note = kpi_arena_strndup(&res->arena, note, strlen(note))))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        if (kpi_formulas_tripped(res->fe)) {
            int rc = kpi_formulas_rebuild(res->fe, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* CPUs this process may use: its affinity mask, lowered by a cgroup v2
 * CPU quota (cpu.max, as containers set it), at least 1. */
unsigned kpi_cpus_available(void)
{
    cpu_set_t set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        n = CPU_COUNT(&set);
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "re");
    if (f) {
        char quota[32] = "";
        long period = 0;
        if (fscanf(f, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") && period > 0) {
            long q = strtol(quota, NULL, 10);
            long cpus = q > 0 ? (q + period - 1) / period : 0;
            if (cpus > 0 && cpus < n)
                n = cpus;
        }
        fclose(f);
    }
    return n > 0 ? (unsigned)n : 1;
}

/* A warning per broken plugin file, in shadowing order, kept past
 * kpi_evaluate_end(). */
static int note_broken_plugins(kpi_results *res, struct kpi_error *err)
{
    size_t n = kpi_formulas_plugin_count(res->fe);

    for (size_t i = 0; i < n; i++) {
        const char *broken = kpi_formulas_plugin_broken(res->fe, i), *bytes;
        size_t len;
        if (!broken)
            continue;
        if (!res->warnings &&
            !(res->warnings = kpi_arena_alloc(&res->arena, n * sizeof *res->warnings)))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        const char *path = kpi_formulas_plugin_file(res->fe, i, &bytes, &len);
        size_t size = strlen(broken) + strlen(path) + 96;
        char *text = kpi_arena_alloc(&res->arena, size);
        if (!text)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        snprintf(text, size, "%s (the plugin failed to load; KPIs that call it are in error)",
                 broken);
        res->warnings[res->n_warnings++] = text;
    }
    return 0;
}

static double time_limit(const struct kpi_eval_options *opt)
{
    return opt->time_limit > 0 ? opt->time_limit : KPI_DEFAULT_SECONDS;
}

int kpi_evaluate_begin(const kpi_dataset *ds, const struct kpi_eval_options *opt,
                       kpi_results **out, struct kpi_error *err)
{
    struct kpi_sandbox_limits limits = {opt->instruction_limit, opt->memory_limit,
                                        opt->time_limit};
    kpi_results *res = NULL;
    size_t n;
    int rc;

    *out = NULL;
    kpi_dataset_indicators(ds, &n);
    res = calloc(1, sizeof *res);
    if (!res)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    kpi_arena_init(&res->arena);
    res->ds = ds;
    res->opt = *opt;
    res->n = n;

    /* Plugins are read and compiled here, before any worker starts; the
     * workers inherit this state. */
    rc = kpi_formulas_new(ds, &limits, opt->plugin_dirs, opt->n_plugin_dirs, &res->fe, err);
    if (!rc)
        rc = kpi_formulas_set_rules(res->fe, opt->rules, err);
    if (rc)
        goto out;
    const char *path, *bytes;
    size_t len;
    for (size_t i = 0; opt->provenance && !rc &&
                       (path = kpi_formulas_plugin_file(res->fe, i, &bytes, &len));
         i++) {
        char hex[KPI_SHA256_HEX];
        uint64_t lines;
        if (!bytes)
            continue; /* refused unread (a link, too big ...): nothing of it ran */
        kpi_sha256_lines(bytes, len, hex, &lines);
        rc = kpi_provenance_add_file(opt->provenance, KPI_PROVENANCE_FORMULA, path, hex, lines,
                                     err);
    }
    if (rc)
        goto out;

    /* A broken plugin is marked, to cost only the KPIs that call it. */
    if (opt->in_process)
        rc = kpi_formulas_check_plugins(res->fe, err);
    else
        rc = kpi_workers_check_plugins(res->fe, time_limit(opt), err);
    if (rc || (rc = note_broken_plugins(res, err)))
        goto out;

    if (opt->in_process) {
        if (!(res->rows = calloc(n ? n : 1, sizeof *res->rows)))
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
    } else {
        unsigned jobs = opt->jobs ? opt->jobs : kpi_cpus_available();
        rc = kpi_workers_new(n, jobs, &res->workers, err);
        if (!rc)
            res->rows = kpi_workers_rows(res->workers);
    }
    if (rc)
        goto out;
    /* Workers are forked per call, after the rows of earlier calls are in:
     * a composite KPI reads them in the worker's copy of this memory. */
    kpi_formulas_set_rows(res->fe, res->rows);
    *out = res;
    res = NULL;
out:
    kpi_results_free(res);
    return rc;
}

/* Progress of one call as progress over every KPI of the dataset. */
struct overall_progress {
    const struct kpi_progress *to;
    size_t done, total;
};

static void report_overall(void *ctx, size_t done, size_t total)
{
    (void)total;
    const struct overall_progress *o = ctx;
    o->to->report(o->to->ctx, o->done + done, o->total);
}

int kpi_evaluate_kpis(kpi_results *res, const unsigned *kpis, size_t n, struct kpi_error *err)
{
    const struct kpi_progress *to = res->opt.progress;
    struct overall_progress o = {to, res->done, res->n};
    struct kpi_progress progress = {&o, report_overall};
    int rc;

    assert(res->fe && res->done + n <= res->n);
    if (res->opt.in_process)
        rc = evaluate_in_process(res, kpis, n, to ? &progress : NULL, err);
    else
        rc = kpi_workers_run(res->workers, res->ds, res->fe, kpis, n, time_limit(&res->opt),
                             to ? &progress : NULL, err);
    res->done += n;
    return rc;
}

void kpi_evaluate_end(kpi_results *res)
{
    kpi_formulas_free(res->fe);
    res->fe = NULL;
}

int kpi_evaluate(const kpi_dataset *ds, const struct kpi_eval_options *opt, kpi_results **out,
                 struct kpi_error *err)
{
    size_t n;
    unsigned *all = NULL;
    int rc;

    *out = NULL;
    kpi_dataset_indicators(ds, &n);
    if (!(all = malloc((n ? n : 1) * sizeof *all)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        all[i] = (unsigned)i;
    if (!(rc = kpi_evaluate_begin(ds, opt, out, err))) {
        rc = kpi_evaluate_kpis(*out, all, n, err);
        kpi_evaluate_end(*out);
        if (rc) {
            kpi_results_free(*out);
            *out = NULL;
        }
    }
    free(all);
    return rc;
}

const char *const *kpi_results_warnings(const kpi_results *res, size_t *n)
{
    *n = res->n_warnings;
    return res->warnings;
}

struct kpi_result *kpi_results_rows(kpi_results *res, size_t *n)
{
    *n = res->n;
    return res->rows;
}

void kpi_results_free(kpi_results *res)
{
    if (!res)
        return;
    kpi_formulas_free(res->fe);
    if (res->workers)
        kpi_workers_free(res->workers);
    else
        free(res->rows);
    kpi_arena_release(&res->arena);
    free(res);
}
