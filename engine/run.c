#include "kpieval/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kpieval/plan.h"
#include "kpieval/provenance.h"
#include "kpieval/score.h"
#include "text.h"

const char *kpi_phase_name(enum kpi_phase phase)
{
    static const char *const names[KPI_PHASE_COUNT] = {"load", "evaluate", "score", "rollup",
                                                       "write"};
    return (unsigned)phase < KPI_PHASE_COUNT ? names[phase] : "?";
}

void kpi_run_init(struct kpi_run *run)
{
    memset(run, 0, sizeof *run);
}

void kpi_run_release(struct kpi_run *run)
{
    kpi_results_free(run->results);
    kpi_rules_free(run->rules);
    kpi_dataset_free(run->ds);
    free(run->departments);
    kpi_run_init(run);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tells the observer, if any, about the stages. */
struct stage {
    const struct kpi_run_observer *obs;
    enum kpi_phase phase;
    double started;
};

static void stage_start(struct stage *st, enum kpi_phase phase)
{
    st->phase = phase;
    st->started = seconds_now();
    if (st->obs && st->obs->phase_start)
        st->obs->phase_start(st->obs->ctx, phase);
}

static void stage_end_after(struct stage *st, size_t items, double seconds)
{
    if (st->obs && st->obs->phase_end)
        st->obs->phase_end(st->obs->ctx, st->phase, seconds, items);
}

static void stage_end(struct stage *st, size_t items)
{
    stage_end_after(st, items, seconds_now() - st->started);
}

struct forward {
    const struct kpi_run_observer *obs;
};

static void forward_progress(void *ctx, size_t done, size_t total)
{
    const struct forward *fw = ctx;
    fw->obs->progress(fw->obs->ctx, done, total);
}

/* Without the standard formulas every KPI that calls ratio() would come out
 * `missing` with "input 'ratio' missing": stop instead, before the output
 * folder is touched. */
static int check_stdlib(const struct kpi_run_options *opt, struct kpi_error *err)
{
    struct stat st;

    if (opt->stdlib_missing)
        return kpi_error_set(err, KPI_EPLUGIN, "%s", opt->stdlib_missing);
    if (!opt->stdlib_dir)
        return 0;
    if (stat(opt->stdlib_dir, &st) != 0)
        return kpi_error_set(err, KPI_EPLUGIN, "standard formulas '%s': %s", opt->stdlib_dir,
                             strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return kpi_error_set(err, KPI_EPLUGIN, "standard formulas '%s': not a folder",
                             opt->stdlib_dir);
    return 0;
}

/* Walks the plan: evaluates a level, then scores each of its KPIs, so
 * that a later level can read the achievements of earlier ones. Adds the
 * time spent scoring to *score_seconds. */
static int evaluate_plan(struct kpi_run *run, double cap, double *score_seconds,
                         struct kpi_error *err)
{
    kpi_plan *plan = NULL;
    size_t n_all;
    const struct kpi_indicator *ks = kpi_dataset_indicators(run->ds, &n_all);
    struct kpi_result *rows = kpi_results_rows(run->results, &n_all);
    int rc = kpi_plan_new(run->ds, &plan, err);

    for (size_t level = 0; !rc && level < kpi_plan_levels(plan); level++) {
        size_t n;
        const unsigned *kpis = kpi_plan_level(plan, level, &n);
        if ((rc = kpi_evaluate_kpis(run->results, kpis, n, err)))
            break;
        double started = seconds_now();
        for (size_t k = 0; k < n; k++)
            kpi_score(&ks[kpis[k]], &rows[kpis[k]], cap);
        *score_seconds += seconds_now() - started;
    }
    kpi_plan_free(plan);
    return rc;
}

/* The evaluation's warnings, so the reports and the printed warnings
 * carry them: the plugins that failed to load before all others (a
 * plan of many warnings must not hide them), the failed `warning` rules
 * of each KPI after them, in report order (whatever --jobs). */
static int add_evaluation_warnings(struct kpi_run *run, struct kpi_error *err)
{
    size_t n;
    const char *const *w = kpi_results_warnings(run->results, &n);
    const struct kpi_result *rows;
    int rc = 0;

    for (size_t i = 0; i < n && !rc; i++)
        rc = kpi_dataset_add_warning(run->ds, w[i], true, err);
    rows = kpi_results_rows(run->results, &n);
    for (size_t i = 0; i < n && !rc; i++) {
        char line[KPI_RULE_NOTE_MAX];
        for (const char *p = rows[i].note; p && *p && !rc;) {
            size_t len = strcspn(p, "\n");
            snprintf(line, sizeof line, "%.*s", (int)len, p);
            rc = kpi_dataset_add_warning(run->ds, line, false, err);
            p += len + (p[len] == '\n');
        }
    }
    return rc;
}

/* The settings that change a number in the report, at their effective
 * values (defaults included), into the provenance: a new such setting is
 * one more line here. Named as the settings of error.h are. */
static int record_settings(const struct kpi_report_params *p, struct kpi_provenance *prov,
                           struct kpi_error *err)
{
    char num[KPI_NUMBER_BUF], grades[KPI_GRADES_MAX * (KPI_GRADE_NAME_MAX + KPI_NUMBER_BUF + 2)];
    size_t len = 0;
    int rc = 0;

    grades[0] = '\0';
    for (size_t i = 0; i < p->grades->n; i++)
        len += (size_t)snprintf(grades + len, sizeof grades - len, "%s%s:%s", i ? "," : "",
                                p->grades->bands[i].name,
                                kpi_text_format_exact(p->grades->bands[i].min, num));
    if (p->period)
        rc = kpi_provenance_set(prov, KPI_SETTING_PERIOD, p->period, err);
    if (!rc)
        rc = kpi_provenance_set(prov, "cap", kpi_text_format_exact(p->cap, num), err);
    if (!rc)
        rc = kpi_provenance_set(prov, KPI_SETTING_GRADES, grades, err);
    snprintf(num, sizeof num, "%llu", (unsigned long long)p->instruction_limit);
    if (!rc)
        rc = kpi_provenance_set(prov, "max_instructions", num, err);
    snprintf(num, sizeof num, "%zu", p->memory_limit);
    if (!rc)
        rc = kpi_provenance_set(prov, "max_memory", num, err);
    if (!rc)
        rc = kpi_provenance_set(prov, "time_limit", kpi_text_format_exact(p->time_limit, num),
                                err);
    if (!rc)
        rc = kpi_provenance_set(prov, KPI_SETTING_UNSCORED, kpi_unscored_name(p->grades->unscored),
                                err);
    return rc;
}

int kpi_run_execute(const struct kpi_run_options *opt, struct kpi_run *run, struct kpi_error *err)
{
    struct kpi_load_options load = {opt->period, opt->encoding, opt->provenance};
    struct kpi_outdir_lock lock = KPI_OUTDIR_LOCK_INIT;
    struct stage st = {opt->observer, KPI_PHASE_LOAD, 0};
    struct forward fw = {opt->observer};
    struct kpi_progress progress = {&fw, forward_progress};
    const char **plugin_dirs = NULL;
    char *dataset_formulas = NULL;
    size_t n_kpis, n_deps, n_plugin_dirs = 0;
    struct kpi_result *rows;
    double score_seconds = 0;
    int rc;

    if ((rc = check_stdlib(opt, err)) ||
        (opt->provenance && (rc = kpi_provenance_now(opt->provenance->started, err))))
        return rc;

    /* One run at a time per output folder: lock it first, so a second run
     * fails at once, before any work. Staging folders of killed runs are
     * safe to remove once the lock is ours. */
    if (opt->out) {
        if ((rc = kpi_outdir_check(opt->out, err)) ||
            (rc = kpi_outdir_lock(opt->out, opt->wait, &lock, err)))
            return rc;
        kpi_outdir_remove_stale(opt->out);
        if ((rc = kpi_outdir_check(opt->out, err)))
            goto out;
    }

    /* Plugin folders, a later one shadowing an earlier one. */
    plugin_dirs = calloc(opt->n_formula_dirs + 2, sizeof *plugin_dirs);
    size_t dlen = strlen(opt->dataset) + sizeof "/formulas";
    dataset_formulas = malloc(dlen);
    if (!plugin_dirs || !dataset_formulas) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    if (opt->stdlib_dir)
        plugin_dirs[n_plugin_dirs++] = opt->stdlib_dir;
    snprintf(dataset_formulas, dlen, "%s/formulas", opt->dataset);
    /* Files inside a dataset are never links (input_file.h); nor is its
     * formulas folder, whose files would otherwise be read, and quoted in
     * messages, from wherever it points. */
    struct stat link;
    if (lstat(dataset_formulas, &link) == 0 && S_ISLNK(link.st_mode)) {
        kpi_error_set(err, KPI_EINPUT,
                      "%s: a symbolic link; kpieval does not follow links inside a dataset: "
                      "copy the folder there, or name it as a folder of more formulas",
                      dataset_formulas);
        rc = kpi_error_setting(err, KPI_EINPUT, KPI_SETTING_FORMULAS);
        goto out;
    }
    plugin_dirs[n_plugin_dirs++] = dataset_formulas;
    for (size_t i = 0; i < opt->n_formula_dirs; i++)
        plugin_dirs[n_plugin_dirs++] = opt->formula_dirs[i];

    stage_start(&st, KPI_PHASE_LOAD);
    rc = kpi_dataset_load(opt->dataset, &load, &run->ds, err);
    if (!rc)
        rc = kpi_rules_load(opt->dataset, run->ds, opt->encoding, opt->provenance, &run->rules,
                            err);
    if (!rc && opt->shard_count)
        rc = kpi_dataset_keep_shard(run->ds, opt->shard_index, opt->shard_count, err);
    if (rc)
        goto out;
    kpi_dataset_indicators(run->ds, &n_kpis);
    stage_end(&st, n_kpis);

    struct kpi_eval_options eval = {
        .plugin_dirs = plugin_dirs,
        .n_plugin_dirs = n_plugin_dirs,
        .instruction_limit = opt->instruction_limit,
        .memory_limit = opt->memory_limit,
        .time_limit = opt->time_limit,
        .jobs = opt->jobs,
        .in_process = opt->in_process,
        .progress = opt->observer && opt->observer->progress ? &progress : NULL,
        .provenance = opt->provenance,
        .rules = run->rules,
    };
    stage_start(&st, KPI_PHASE_EVALUATE);
    if ((rc = kpi_evaluate_begin(run->ds, &eval, &run->results, err)) ||
        (rc = evaluate_plan(run, opt->cap, &score_seconds, err)) ||
        (rc = add_evaluation_warnings(run, err)))
        goto out;
    kpi_evaluate_end(run->results);
    stage_end_after(&st, n_kpis, seconds_now() - st.started - score_seconds);
    /* Scoring is done level by level inside evaluation; its time is still
     * told as a stage of its own. */
    stage_start(&st, KPI_PHASE_SCORE);
    stage_end_after(&st, n_kpis, score_seconds);
    rows = kpi_results_rows(run->results, &n_kpis);

    stage_start(&st, KPI_PHASE_ROLLUP);
    kpi_dataset_departments(run->ds, &n_deps);
    run->departments = calloc(n_deps ? n_deps : 1, sizeof *run->departments);
    if (!run->departments) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    kpi_rollup(run->ds, rows, &opt->grades, run->departments, &run->overall);
    stage_end(&st, n_deps);

    if (opt->has_max_errors && run->overall.count[KPI_STATUS_ERROR] > opt->max_errors) {
        kpi_error_set(err, KPI_ELIMIT,
                      "%u KPIs are in error, more than the %zu allowed; no report written%s",
                      run->overall.count[KPI_STATUS_ERROR], opt->max_errors,
                      opt->out ? ", the earlier one is untouched" : "");
        rc = kpi_error_setting(err, KPI_ELIMIT, KPI_SETTING_MAX_ERRORS);
        goto out;
    }
    if (!opt->out)
        goto out;

    struct kpi_report_params params = {
        .dataset = opt->dataset,
        .period = kpi_dataset_period(run->ds),
        .cap = opt->cap,
        .grades = &opt->grades,
        .plugin_dirs = plugin_dirs,
        .n_plugin_dirs = n_plugin_dirs,
        .instruction_limit = opt->instruction_limit ? opt->instruction_limit
                                                    : KPI_DEFAULT_INSTRUCTIONS,
        .memory_limit = opt->memory_limit ? opt->memory_limit : KPI_DEFAULT_MEMORY,
        .time_limit = opt->time_limit > 0 ? opt->time_limit : KPI_DEFAULT_SECONDS,
        .shard_index = opt->shard_index,
        .shard_count = opt->shard_count,
        .reports = opt->reports,
        .threads = opt->jobs ? opt->jobs : kpi_cpus_available(),
        .lang = opt->lang,
        .csv_bom = opt->csv_bom,
        .provenance = opt->provenance,
    };
    /* Finished: the results are complete; writing them is not part of
     * what the report describes. */
    if (opt->provenance && ((rc = record_settings(&params, opt->provenance, err)) ||
                            (rc = kpi_provenance_now(opt->provenance->finished, err))))
        goto out;
    struct kpi_report report;
    kpi_report_init(&report, run->ds, rows, run->departments, &run->overall, &params);
    stage_start(&st, KPI_PHASE_WRITE);
    rc = kpi_report_write(&report, opt->out, err);
    if (!rc)
        stage_end(&st, n_kpis);
out:
    kpi_outdir_unlock(&lock);
    free(plugin_dirs);
    free(dataset_formulas);
    return rc;
}
