#include "kpieval/trial.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "kpieval/builder.h"
#include "kpieval/evaluate.h"
#include "text.h"

/* Every case is a KPI of this one department, as no file holds them. */
#define TRIAL_DEPARTMENT "trial"

/* The builder's messages start with the line of a file there is none of
 * here ("indicators.csv:2: "): what follows is the part that helps. */
static const char *without_file_line(const char *msg)
{
    static const char *const files[] = {"indicators.csv:", "actuals.csv:"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t n = strlen(files[i]);
        if (strncmp(msg, files[i], n))
            continue;
        const char *p = msg + n;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p > msg + n && p[0] == ':' && p[1] == ' ')
            return p + 2;
    }
    return msg;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int kpi_trial_parse_input(char *text, struct kpi_trial_input *in, struct kpi_error *err)
{
    char *eq = strchr(text, '=');
    double v;

    if (!eq)
        return kpi_error_set(err, KPI_EUSAGE, "input '%s': expected name=value", trim(text));
    *eq = '\0';
    in->name = trim(text);
    in->value = trim(eq + 1);
    if (!kpi_text_is_lua_name(in->name))
        return kpi_error_set(err, KPI_EUSAGE,
                             "input '%s': the name is not a Lua identifier (letters, digits "
                             "and '_', not a keyword)",
                             in->name);
    enum kpi_number_problem p = kpi_text_parse_number(in->value, &v);
    if (p != KPI_NUMBER_OK)
        return kpi_error_set(err, KPI_EUSAGE, "input '%s': value '%s' %s", in->name, in->value,
                             kpi_text_number_problem(p));
    return 0;
}

/* The cases as a dataset, one KPI each, in the builder's checks. */
static int build(const struct kpi_trial_case *cases, size_t n, kpi_dataset **out,
                 struct kpi_error *err)
{
    kpi_builder *b = NULL;
    int rc;

    if ((rc = kpi_builder_new(NULL, &b, err)))
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct kpi_trial_case *c = &cases[i];
        struct kpi_indicator_spec spec = {
            .id = c->id, .name = c->id, .department = TRIAL_DEPARTMENT,
            .direction = c->direction, .baseline = c->baseline,
            .target = c->target ? c->target : "1", .formula = c->formula,
            .scoring = c->target ? c->scoring : NULL,
        };
        if (!kpi_text_is_kpi_id(c->id))
            rc = kpi_error_set(err, KPI_EUSAGE, "'%s' cannot name a trial: use letters, digits, "
                                                "'.', '_' and '-'", c->id);
        else if ((rc = kpi_builder_add_indicator(b, &spec, err)) == KPI_EINPUT)
            rc = kpi_error_set(err, KPI_EUSAGE, "%s", without_file_line(err->message));
    }
    for (size_t i = 0; i < n && !rc; i++) {
        for (size_t j = 0; j < cases[i].n_inputs && !rc; j++) {
            struct kpi_actual_spec a = {cases[i].id, cases[i].inputs[j].name,
                                        cases[i].inputs[j].value, 0};
            rc = kpi_builder_add_actual(b, &a, err);
        }
    }
    if (!rc)
        rc = kpi_builder_finish(b, out, err);
    kpi_builder_free(b);
    return rc;
}

int kpi_trial_run(const struct kpi_trial_options *opt, const struct kpi_trial_case *cases,
                  size_t n, struct kpi_trial_result *results, struct kpi_error *err)
{
    kpi_dataset *ds = NULL;
    kpi_results *res = NULL;
    struct kpi_eval_options eo = {
        .plugin_dirs = opt->plugin_dirs,
        .n_plugin_dirs = opt->n_plugin_dirs,
        .instruction_limit = opt->instruction_limit,
        .memory_limit = opt->memory_limit,
        .time_limit = opt->time_limit,
        .in_process = true, /* the sandbox's limits hold in this process too */
    };
    size_t n_rows;
    int rc;

    memset(results, 0, n * sizeof *results);
    if (!n)
        return 0;
    if ((rc = build(cases, n, &ds, err)) || (rc = kpi_evaluate(ds, &eo, &res, err)))
        goto out;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_rows);
    struct kpi_result *rows = kpi_results_rows(res, &n_rows);
    for (size_t i = 0; i < n; i++) {
        const struct kpi_indicator *k = kpi_dataset_find(ds, cases[i].id);
        struct kpi_trial_result *t = &results[i];
        assert(k && (size_t)(k - ks) < n_rows);
        struct kpi_result *r = &rows[k - ks];
        if (r->status == KPI_STATUS_OK && cases[i].target)
            kpi_score(k, r, opt->cap > 0 ? opt->cap : KPI_DEFAULT_CAP);
        t->status = r->status;
        t->has_value = r->has_actual;
        t->value = r->actual;
        t->scored = r->status == KPI_STATUS_OK && cases[i].target;
        t->achievement = r->achievement;
        t->achievement_capped = r->achievement_capped;
        t->band = kpi_score_band(r);
        if (r->status != KPI_STATUS_OK)
            snprintf(t->message, sizeof t->message, "%s",
                     r->message ? without_file_line(r->message) : kpi_status_name(r->status));
    }
out:
    kpi_results_free(res);
    kpi_dataset_free(ds);
    return rc;
}
