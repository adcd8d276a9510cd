#include "kpieval/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpieval/score.h"

void kpi_run_init(struct kpi_run *run)
{
    memset(run, 0, sizeof *run);
}

void kpi_run_release(struct kpi_run *run)
{
    kpi_results_free(run->results);
    kpi_dataset_free(run->ds);
    free(run->departments);
    kpi_run_init(run);
}

int kpi_run_execute(const struct kpi_run_options *opt, struct kpi_run *run, struct kpi_error *err)
{
    struct kpi_load_options load = {opt->period};
    const char **plugin_dirs = NULL;
    char *dataset_formulas = NULL;
    size_t n_kpis, n_deps, n_plugin_dirs = 0;
    struct kpi_result *rows;
    const struct kpi_indicator *ks;
    int rc;

    /* Refuse an unusable output folder before doing any work. */
    if (opt->out && (rc = kpi_report_check_target(opt->out, err)))
        return rc;

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
    plugin_dirs[n_plugin_dirs++] = dataset_formulas;
    for (size_t i = 0; i < opt->n_formula_dirs; i++)
        plugin_dirs[n_plugin_dirs++] = opt->formula_dirs[i];

    rc = kpi_dataset_load(opt->dataset, &load, &run->ds, err);
    if (rc)
        goto out;
    struct kpi_eval_options eval = {
        .plugin_dirs = plugin_dirs,
        .n_plugin_dirs = n_plugin_dirs,
        .instruction_limit = opt->instruction_limit,
        .memory_limit = opt->memory_limit,
        .time_limit = opt->time_limit,
        .jobs = opt->jobs,
        .in_process = opt->in_process,
    };
    rc = kpi_evaluate(run->ds, &eval, &run->results, err);
    if (rc)
        goto out;

    ks = kpi_dataset_indicators(run->ds, &n_kpis);
    rows = kpi_results_rows(run->results, &n_kpis);
    for (size_t i = 0; i < n_kpis; i++)
        kpi_score(&ks[i], &rows[i], opt->cap);

    kpi_dataset_departments(run->ds, &n_deps);
    run->departments = calloc(n_deps ? n_deps : 1, sizeof *run->departments);
    if (!run->departments) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    kpi_rollup(run->ds, rows, &opt->grades, run->departments, &run->overall);
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
    };
    struct kpi_report report = {run->ds, rows, run->departments, &run->overall, &params};
    rc = kpi_report_write(&report, opt->out, err);
out:
    free(plugin_dirs);
    free(dataset_formulas);
    return rc;
}
