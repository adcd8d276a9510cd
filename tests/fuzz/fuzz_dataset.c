/*
 * fuzz_dataset.c - the dataset loader (indicators.csv, actuals.csv, the
 * period rules and the department tree) on arbitrary files.
 *
 * Input: INDICATORS \0 ACTUALS [\0 PERIOD]. Up to the first NUL byte is
 * indicators.csv; up to the second NUL (or the end) is actuals.csv; after
 * it, up to any third NUL, the period to select. Without any NUL the whole
 * input is indicators.csv and actuals.csv is a fixed file holding periods
 * 2019 and 2020 for K1 and K2. (So NUL bytes reach actuals.csv only.)
 *
 * Both files are written to this process's scratch folder and loaded
 * twice: without a period, then with PERIOD (default "2019"). A load that
 * succeeds is walked by fuzz_check_dataset(); one that fails must say why.
 * A load without a period that picks the file's only period P must agree
 * with a load of P.
 */
#include <string.h>

#include "fuzz.h"

static const char default_actuals[] = "indicator,input,value,period\n"
                                      "K1,x,1,2019\n"
                                      "K2,y,2.5,2019\n"
                                      "K1,x,3,2020\n";

static int load(const char *dir, const char *period, kpi_dataset **ds)
{
    struct kpi_load_options opt = {.period = period};
    struct kpi_error err = {0};
    int rc = kpi_dataset_load(dir, &opt, ds, &err);

    if (rc == 0) {
        FUZZ_CHECK(*ds != NULL);
        fuzz_check_dataset(*ds);
        if (period) {
            FUZZ_CHECK(kpi_dataset_period(*ds) != NULL);
            FUZZ_CHECK(!strcmp(kpi_dataset_period(*ds), period));
        }
    } else {
        FUZZ_CHECK(*ds == NULL);
        FUZZ_CHECK(rc < 0 && err.code == rc);
        FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        FUZZ_CHECK(err.message[0] != '\0');
    }
    return rc;
}

/* The same KPIs, equally valid, with the same inputs. */
static void check_same(const kpi_dataset *a, const kpi_dataset *b)
{
    size_t na, nb;
    const struct kpi_indicator *ka = kpi_dataset_indicators(a, &na);
    const struct kpi_indicator *kb = kpi_dataset_indicators(b, &nb);

    FUZZ_CHECK(na == nb);
    for (size_t i = 0; i < na; i++) {
        FUZZ_CHECK(!strcmp(ka[i].id, kb[i].id));
        FUZZ_CHECK(!ka[i].invalid == !kb[i].invalid);
        FUZZ_CHECK(ka[i].n_inputs == kb[i].n_inputs);
        for (unsigned j = 0; j < ka[i].n_inputs; j++) {
            FUZZ_CHECK(!strcmp(ka[i].inputs[j].name, kb[i].inputs[j].name));
            FUZZ_CHECK(ka[i].inputs[j].value == kb[i].inputs[j].value);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *dir = fuzz_scratch_dir();
    const char *nul = memchr(in, '\0', size);
    const char *actuals = default_actuals;
    size_t ind_len = size, act_len = sizeof default_actuals - 1;
    char *period = NULL;
    kpi_dataset *ds = NULL, *other = NULL;

    if (nul) {
        const char *rest = nul + 1;
        size_t rest_len = size - (size_t)(rest - in);
        const char *nul2 = memchr(rest, '\0', rest_len);

        ind_len = (size_t)(nul - in);
        actuals = rest;
        act_len = nul2 ? (size_t)(nul2 - rest) : rest_len;
        if (nul2) {
            const char *p = nul2 + 1;
            period = strndup(p, size - (size_t)(p - in));
            FUZZ_CHECK(period != NULL);
        }
    }
    fuzz_write_file(dir, "indicators.csv", in, ind_len);
    fuzz_write_file(dir, "actuals.csv", actuals, act_len);

    if (load(dir, NULL, &ds) == 0) {
        const char *only = kpi_dataset_period(ds);
        if (only) {
            FUZZ_CHECK(load(dir, only, &other) == 0);
            check_same(ds, other);
            kpi_dataset_free(other);
        }
        kpi_dataset_free(ds);
    }
    if (load(dir, period ? period : "2019", &ds) == 0)
        kpi_dataset_free(ds);

    free(period);
    return 0;
}
