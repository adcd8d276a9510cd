/*
 * trial.h - tries formulas on inputs given by hand, exactly as a run would
 * evaluate and score them: `kpieval eval` and the formula tests.
 *
 * Provides kpi_trial_run(): each case becomes a KPI of a dataset made with
 * the builder, evaluated in this process (evaluate.h: the same sandbox,
 * plugins and limits as a run) and scored (score.h). Relies on the
 * builder, evaluation and scoring. Memory: results are caller-owned rows.
 */
#ifndef KPIEVAL_TRIAL_H
#define KPIEVAL_TRIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpieval/error.h"
#include "kpieval/result.h"
#include "kpieval/score.h"

/* One input, as it would be written in actuals.csv. */
struct kpi_trial_input {
    const char *name, *value;
};

/* One formula to try. The strings are only read during kpi_trial_run(). */
struct kpi_trial_case {
    const char *id;      /* what messages call it ("formula:1: ..."); a KPI id */
    const char *formula; /* as in indicators.csv */
    const struct kpi_trial_input *inputs;
    size_t n_inputs;
    /* Cells of indicators.csv for scoring; target NULL: not scored. */
    const char *target, *direction, *scoring, *baseline;
};

#define KPI_TRIAL_MESSAGE_MAX 512

struct kpi_trial_result {
    enum kpi_status status;
    bool has_value;           /* the formula returned a finite number */
    double value;
    bool scored;              /* status ok and a target was given */
    double achievement, achievement_capped;
    enum kpi_band band;
    char message[KPI_TRIAL_MESSAGE_MAX]; /* "" when ok */
};

struct kpi_trial_options {
    const char *const *plugin_dirs; /* a later folder shadows an earlier one */
    size_t n_plugin_dirs;
    uint64_t instruction_limit;     /* 0: the run's defaults (result.h) */
    size_t memory_limit;
    double time_limit;
    double cap;                     /* 0: KPI_DEFAULT_CAP */
};

/* Evaluates cases[0..n) into results[0..n). A case's failure (a formula
 * that does not compile, raises an error, uses a name it is not given, a
 * bad cell) is its result's status and message, never the return value.
 * Returns 0; KPI_EUSAGE when a case's id, an input's name or value is not
 * acceptable (err names it); KPI_EPLUGIN when the plugins cannot be
 * loaded, as a run would stop; KPI_ENOMEM. */
int kpi_trial_run(const struct kpi_trial_options *opt, const struct kpi_trial_case *cases,
                  size_t n, struct kpi_trial_result *results, struct kpi_error *err);

/* Reads "name=value" (blanks around either allowed) into *in, pointing
 * into text, which it modifies. Returns 0, or KPI_EUSAGE naming what is
 * wrong: no '=', a name that is not a Lua identifier, a value that is not
 * a number. */
int kpi_trial_parse_input(char *text, struct kpi_trial_input *in, struct kpi_error *err);

#endif
