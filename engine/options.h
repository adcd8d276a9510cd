/*
 * options.h - the command line's grammar as two tables: the subcommands
 * (name, operands, one-line summary) and the options (name, argument, which
 * subcommands take it, how its value is checked and stored, help text).
 *
 * Provides kpi_options_parse(), which reads argv into a struct
 * kpi_command_line, and kpi_options_print_usage()/kpi_options_print_help(),
 * which print the general usage and a subcommand's --help from the same
 * rows, so no option is listed twice. Relies on run.h (the run options it
 * fills), rollup.h (--grades), report.h (--reports) and text.h (numbers).
 * It prints only help, to the FILE it is given; a bad command line is
 * reported in a struct kpi_error for cli.c to show. It is the only place
 * that knows the options' names: kpi_options_explain() turns the run
 * setting a library error concerns into the option that sets it.
 */
#ifndef KPIEVAL_OPTIONS_H
#define KPIEVAL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kpieval/error.h"
#include "kpieval/run.h"

/* The subcommands, in the order `kpieval help` lists them; an option row
 * names the ones that take it with KPI_CMD_BIT(). */
enum kpi_command_id {
    KPI_CMD_RUN,
    KPI_CMD_CHECK,
    KPI_CMD_MERGE,
    KPI_CMD_GENERATE,
    KPI_CMD_EVAL,
    KPI_CMD_FORMULAS,
    KPI_CMD_TEST,
    KPI_CMD_HELP,
    KPI_CMD_VERSION,
    KPI_CMD_COUNT
};

#define KPI_CMD_BIT(id) (1u << (id))

/* --formulas may be given this many times: a plan has a handful of plugin
 * folders, and the run options hold them as a fixed array. */
#define KPI_FORMULA_DIRS_MAX 64

struct kpi_command {
    enum kpi_command_id id;
    const char *name;
    const char *alias;    /* also accepted in its place, e.g. "--version"; may be NULL */
    const char *operands; /* synopsis after the name, e.g. "OUT PART..."; "" for none */
    const char *summary;  /* one line for the general usage */
    size_t min_operands, max_operands;
    const char *too_few; /* the message when fewer than min_operands are given */
};

struct kpi_command_line;

struct kpi_option {
    const char *name;    /* "--period" */
    const char *alias;   /* a short form, e.g. "-h"; may be NULL */
    const char *metavar; /* the value's name in help, "P"; NULL: a flag, it takes no value */
    unsigned commands;   /* KPI_CMD_BIT()s of the subcommands that take it */
    unsigned required;   /* KPI_CMD_BIT()s of the subcommands that cannot do without it */
    /* Checks and stores value (NULL for a flag); returns true, or false
     * when the value is not acceptable: the message is then "NAME 'VALUE':
     * EXPECTED" when `expected` is set, else the one store put into err. */
    bool (*store)(struct kpi_command_line *cl, const char *value, struct kpi_error *err);
    const char *expected;
    const char *help; /* lines separated by '\n' */
};

/* What the command line asks for. Caller-owned: kpi_options_init() and
 * kpi_options_release(). The strings point into argv. */
struct kpi_command_line {
    const struct kpi_command *command; /* NULL until argv[1] is known */
    bool help;                         /* --help or -h anywhere: show the command's help */
    const char **operands;             /* the arguments that are not options, in order */
    size_t n_operands;
    struct kpi_run_options run; /* run and check; dataset and out included */
    const char *formula_dirs[KPI_FORMULA_DIRS_MAX];
    uint64_t seed; /* generate --seed */
    /* eval's scoring: indicators.csv cells, checked as a run checks them;
     * target NULL: not scored */
    const char *target, *direction, *scoring, *baseline;
    bool quiet, log_json;
    bool evaluate;                     /* check --evaluate */
};

/* Fills cl with the defaults: no command, --cap 120, the default grades,
 * generate's default seed. */
void kpi_options_init(struct kpi_command_line *cl);
void kpi_options_release(struct kpi_command_line *cl);

/* Reads argv[1] (the subcommand) and the rest into cl. Options may come
 * before, between and after the operands, as "--name VALUE" or
 * "--name=VALUE"; "--" ends the options. When --help or -h is among the
 * arguments, sets cl->help and returns 0 without looking at the others.
 * Returns 0, KPI_EUSAGE (cl->command set when argv[1] was a subcommand, so
 * the caller can point at its --help) or KPI_ENOMEM, with err filled. */
int kpi_options_parse(struct kpi_command_line *cl, int argc, char **argv, struct kpi_error *err);

/* The subcommand called name (or its alias): 0 and *cmd, or KPI_EUSAGE
 * with "unknown command 'NAME'", and a "did you mean" when one is close. */
int kpi_options_find_command(const char *name, const struct kpi_command **cmd,
                             struct kpi_error *err);

/* The general usage: every subcommand with its summary, every option with
 * the subcommands that take it, the exit statuses. */
void kpi_options_print_usage(FILE *f);

/* cmd's synopsis, summary and exactly the options it takes. */
void kpi_options_print_help(FILE *f, const struct kpi_command *cmd);

/* s as a whole number >= 1, digits only: true and *out, or false. */
bool kpi_options_parse_count(const char *s, uint64_t *out);

/* The option that sets `setting`, a KPI_SETTING_* of error.h: the row
 * whose name is the setting's with dashes ("max_errors": "--max-errors");
 * NULL when no option sets it. The library never names an option; this is
 * how the command line finds the one an error concerns. */
const struct kpi_option *kpi_options_for_setting(const char *setting);

/* err's message as the command line shows it after cmd (may be NULL) ran:
 * when err concerns a setting that an option sets, the option follows,
 * "... (see --period)", or "... (see run --shard)" when cmd does not take
 * it. Written into out[size] (cut short to fit); returns out. */
#define KPI_OPTIONS_EXPLAIN_MAX (KPI_ERROR_MESSAGE_MAX + 64)
const char *kpi_options_explain(const struct kpi_command *cmd, const struct kpi_error *err,
                                char *out, size_t size);

/* The tables themselves, for tests. */
const struct kpi_command *kpi_options_commands(size_t *n);
const struct kpi_option *kpi_options_table(size_t *n);

#endif
