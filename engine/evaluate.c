#include "kpieval/evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "formula.h"
#include "text.h"

struct kpi_results {
    struct kpi_arena arena; /* messages */
    struct kpi_result *rows;
    size_t n;
};

const char *kpi_status_name(enum kpi_status status)
{
    static const char *const names[KPI_STATUS_COUNT] = {"ok", "missing", "error", "invalid"};
    return (unsigned)status < KPI_STATUS_COUNT ? names[status] : "error";
}

int kpi_evaluate(const kpi_dataset *ds, const struct kpi_eval_options *opt, kpi_results **out,
                 struct kpi_error *err)
{
    struct kpi_sandbox_limits limits = {opt->instruction_limit, opt->memory_limit};
    const struct kpi_indicator *ks;
    kpi_formulas *fe = NULL;
    kpi_results *res = NULL;
    size_t n;
    char msg[KPI_MESSAGE_MAX];
    int rc;

    *out = NULL;
    ks = kpi_dataset_indicators(ds, &n);
    res = calloc(1, sizeof *res);
    if (!res) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    kpi_arena_init(&res->arena);
    res->rows = calloc(n ? n : 1, sizeof *res->rows);
    if (!res->rows) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    res->n = n;

    rc = kpi_formulas_new(ds, &limits, opt->plugin_dirs, opt->n_plugin_dirs, &fe, err);
    if (rc)
        goto out;

    for (size_t i = 0; i < n; i++) {
        const struct kpi_indicator *k = &ks[i];
        struct kpi_result *r = &res->rows[i];
        enum kpi_status st;

        if (k->invalid) {
            r->status = KPI_STATUS_INVALID;
            r->message = k->invalid;
            continue;
        }
        st = kpi_formulas_eval(fe, k, &r->actual, msg);
        r->has_actual = st == KPI_STATUS_OK;
        if (st == KPI_STATUS_OK && k->scoring == KPI_SCORING_EXPRESSION) {
            st = kpi_formulas_eval_scoring(fe, k, r->actual, &r->score_value, msg);
            r->has_score_value = st == KPI_STATUS_OK;
            if (st == KPI_STATUS_MISSING)
                st = KPI_STATUS_ERROR;
        }
        r->status = st;
        if (st != KPI_STATUS_OK) {
            kpi_text_utf8_repair(msg); /* Lua strings may hold any bytes */
            r->message = kpi_arena_strndup(&res->arena, msg, strlen(msg));
            if (!r->message) {
                rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    *out = res;
    res = NULL;
    rc = 0;
out:
    kpi_formulas_free(fe);
    kpi_results_free(res);
    return rc;
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
    kpi_arena_release(&res->arena);
    free(res->rows);
    free(res);
}
