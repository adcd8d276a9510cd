/* Unit tests of the command line's grammar (engine/options.c): parsing
 * every option, the messages for a bad command line, "did you mean", and
 * the help text generated from the tables. Expected messages and help lines
 * are written out by hand, not taken from the program's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/report.h"
#include "options.h"

#define MAX_ARGS 48

/* One parse of a command line, with argv copied so nothing is const. */
struct parse {
    struct kpi_command_line cl;
    struct kpi_error err;
    int rc, argc;
    char *argv[MAX_ARGS];
};

/* Parses "kpieval" followed by the NULL-terminated arguments. */
static void parse(struct parse *p, ...)
{
    va_list ap;
    const char *arg;

    memset(p, 0, sizeof *p);
    p->argv[p->argc++] = strdup("kpieval");
    va_start(ap, p);
    while ((arg = va_arg(ap, const char *)))
        p->argv[p->argc++] = strdup(arg);
    va_end(ap);
    assert_true(p->argc < MAX_ARGS);
    kpi_options_init(&p->cl);
    p->rc = kpi_options_parse(&p->cl, p->argc, p->argv, &p->err);
}

static void parse_release(struct parse *p)
{
    kpi_options_release(&p->cl);
    for (int i = 0; i < p->argc; i++)
        free(p->argv[i]);
}

/* The parse failed as a usage error with exactly this message. */
#define assert_usage_error(p, want)                                                                \
    do {                                                                                           \
        assert_int_equal((p)->rc, KPI_EUSAGE);                                                     \
        assert_string_equal((p)->err.message, (want));                                             \
    } while (0)

/* Fails with exactly `message` for the NULL-terminated arguments. */
#define assert_fails(want, ...)                                                                    \
    do {                                                                                           \
        struct parse p_;                                                                           \
        parse(&p_, __VA_ARGS__, NULL);                                                             \
        assert_usage_error(&p_, want);                                                             \
        parse_release(&p_);                                                                        \
    } while (0)

static void test_options_run_stores_every_value(void **state)
{
    struct parse p;
    unsigned reports;
    struct kpi_error err;
    (void)state;

    parse(&p, "run", "--out", "o", "--period", "2019", "--cap", "150", "--grades", "A:50,B:0",
          "--formulas", "f1", "--formulas", "f2", "--max-instructions", "5000", "--max-memory",
          "2M", "--time-limit", "0.5", "--jobs", "4", "--in-process", "--reports", "kpis.csv",
          "--shard", "2/8", "--wait", "--max-errors", "0", "--log", "json", "--quiet", "ds", NULL);
    assert_int_equal(p.rc, 0);
    assert_false(p.cl.help);
    assert_int_equal(p.cl.command->id, KPI_CMD_RUN);
    assert_int_equal(p.cl.n_operands, 1);
    assert_string_equal(p.cl.operands[0], "ds");
    assert_string_equal(p.cl.run.out, "o");
    assert_string_equal(p.cl.run.period, "2019");
    assert_true(p.cl.run.cap == 150.0);
    assert_int_equal(p.cl.run.grades.n, 2);
    assert_int_equal(p.cl.run.n_formula_dirs, 2);
    assert_ptr_equal(p.cl.run.formula_dirs, p.cl.formula_dirs);
    assert_string_equal(p.cl.run.formula_dirs[0], "f1");
    assert_string_equal(p.cl.run.formula_dirs[1], "f2");
    assert_int_equal(p.cl.run.instruction_limit, 5000);
    assert_int_equal(p.cl.run.memory_limit, 2 * 1024 * 1024); /* M is 1024 * 1024 */
    assert_true(p.cl.run.time_limit == 0.5);
    assert_int_equal(p.cl.run.jobs, 4);
    assert_true(p.cl.run.in_process);
    assert_int_equal(kpi_report_select("kpis.csv", &reports, &err), 0);
    assert_int_equal(p.cl.run.reports, reports);
    assert_int_equal(p.cl.run.shard_index, 2);
    assert_int_equal(p.cl.run.shard_count, 8);
    assert_true(p.cl.run.wait);
    assert_true(p.cl.run.has_max_errors);
    assert_int_equal(p.cl.run.max_errors, 0);
    assert_true(p.cl.log_json);
    assert_true(p.cl.quiet);
    parse_release(&p);
}

static void test_options_defaults(void **state)
{
    struct parse p;
    (void)state;

    parse(&p, "check", "ds", NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.cl.command->id, KPI_CMD_CHECK);
    assert_null(p.cl.run.out);
    assert_null(p.cl.run.period);
    assert_true(p.cl.run.cap == 120.0);
    assert_int_equal(p.cl.run.grades.n, 5); /* S:100,A:90,B:80,C:70,D:0 */
    assert_int_equal(p.cl.run.n_formula_dirs, 0);
    assert_int_equal(p.cl.run.jobs, 0);
    assert_false(p.cl.run.has_max_errors);
    assert_false(p.cl.quiet || p.cl.log_json || p.cl.run.wait || p.cl.run.in_process);
    assert_int_equal(p.cl.seed, 2019);
    parse_release(&p);

    parse(&p, "generate", "10", "dir", "--seed", "0", NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.cl.seed, 0);
    assert_int_equal(p.cl.n_operands, 2);
    parse_release(&p);
}

static void test_options_equals_form(void **state)
{
    struct parse p;
    (void)state;

    parse(&p, "run", "ds", "--out=o", "--period=2019-Q4", "--cap=100", "--jobs=2",
          "--grades=A:1,B:0", NULL);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.cl.run.out, "o");
    assert_string_equal(p.cl.run.period, "2019-Q4");
    assert_true(p.cl.run.cap == 100.0);
    assert_int_equal(p.cl.run.jobs, 2);
    assert_int_equal(p.cl.run.grades.n, 2);
    parse_release(&p);

    /* Only the first '=' splits; an empty value is a value. */
    parse(&p, "check", "ds", "--period=a=b", NULL);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.cl.run.period, "a=b");
    parse_release(&p);
    parse(&p, "check", "ds", "--period=", NULL);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.cl.run.period, "");
    parse_release(&p);

    assert_fails("--cap 'abc': expected a number > 0", "check", "ds", "--cap=abc");
    assert_fails("option '--quiet' takes no value", "check", "ds", "--quiet=yes");
    assert_fails("option '--help' takes no value", "check", "ds", "--help=1");
}

/* Each option's own check, with the message tests and scripts rely on. */
static void test_options_value_messages(void **state)
{
    (void)state;
    assert_fails("--cap '0': expected a number > 0", "check", "ds", "--cap", "0");
    assert_fails("--cap '-5': expected a number > 0", "check", "ds", "--cap", "-5");
    assert_fails("--max-instructions '0': expected a whole number > 0", "check", "ds",
                 "--max-instructions", "0");
    assert_fails("--max-instructions '1e6': expected a whole number > 0", "check", "ds",
                 "--max-instructions", "1e6");
    assert_fails("--max-memory '1T': expected bytes, e.g. 32M", "check", "ds", "--max-memory",
                 "1T");
    /* 2^34 G is 2^64 bytes: one more than SIZE_MAX on 64 bits */
    assert_fails("--max-memory '17179869184G': expected bytes, e.g. 32M", "check", "ds",
                 "--max-memory", "17179869184G");
    assert_fails("--time-limit '86401': expected seconds, > 0 and <= 86400", "check", "ds",
                 "--time-limit", "86401");
    assert_fails("--jobs '0': expected a whole number from 1 to 256", "check", "ds", "--jobs", "0");
    assert_fails("--jobs '257': expected a whole number from 1 to 256", "check", "ds", "--jobs",
                 "257");
    assert_fails("--max-errors '-1': expected a whole number >= 0", "check", "ds", "--max-errors",
                 "-1");
    assert_fails("--log 'xml': expected 'json' or 'text'", "check", "ds", "--log", "xml");
    assert_fails("--shard '9/8': expected I/N with 1 <= I <= N, e.g. 2/8", "run", "ds", "--out",
                 "o", "--shard", "9/8");
    assert_fails("--shard '0/8': expected I/N with 1 <= I <= N, e.g. 2/8", "run", "ds", "--out",
                 "o", "--shard", "0/8");
    assert_fails("--shard '2/': expected I/N with 1 <= I <= N, e.g. 2/8", "run", "ds", "--out", "o",
                 "--shard", "2/");
    assert_fails("--seed 'x': expected a whole number", "generate", "1", "d", "--seed", "x");
    assert_fails("--grades: grade 'A' given twice", "check", "ds", "--grades", "A:1,A:0");
    assert_fails("--reports: unknown report 'summary.pdf'; choose from kpis.csv, "
                 "departments.csv, departments/, report.json, report.html, report.xlsx",
                 "run", "ds", "--out", "o", "--reports", "summary.pdf");
}

/* Every setting the library can name has the option that sets it; the
 * library's words for a value get the option in front, a run's error
 * gets it after (see --NAME), naming the subcommand that takes it when the
 * one that ran does not. */
static void test_options_settings_map_to_options(void **state)
{
    static const struct {
        const char *setting, *option;
    } map[] = {
        {KPI_SETTING_OUT, "--out"},
        {KPI_SETTING_PERIOD, "--period"},
        {KPI_SETTING_GRADES, "--grades"},
        {KPI_SETTING_REPORTS, "--reports"},
        {KPI_SETTING_FORMULAS, "--formulas"},
        {KPI_SETTING_WAIT, "--wait"},
        {KPI_SETTING_MAX_ERRORS, "--max-errors"},
        {KPI_SETTING_SHARD, "--shard"},
    };
    const struct kpi_command *run, *merge;
    struct kpi_error err;
    char text[KPI_OPTIONS_EXPLAIN_MAX];
    (void)state;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const struct kpi_option *o = kpi_options_for_setting(map[i].setting);
        if (!o || strcmp(o->name, map[i].option))
            fail_msg("setting %s: option %s, expected %s", map[i].setting, o ? o->name : "none",
                     map[i].option);
    }
    assert_null(kpi_options_for_setting(NULL));
    assert_null(kpi_options_for_setting("max-errors")); /* settings are spelt with '_' */
    assert_null(kpi_options_for_setting("perio"));

    assert_int_equal(kpi_options_find_command("run", &run, &err), 0);
    assert_int_equal(kpi_options_find_command("merge", &merge, &err), 0);
    kpi_error_set(&err, KPI_EUSAGE, "actuals.csv: rows for 2 periods ('a', 'b'); choose one");
    kpi_error_setting(&err, KPI_EUSAGE, KPI_SETTING_PERIOD);
    assert_string_equal(kpi_options_explain(run, &err, text, sizeof text),
                        "actuals.csv: rows for 2 periods ('a', 'b'); choose one (see --period)");
    kpi_error_set(&err, KPI_EINPUT, "p: not a partial report");
    kpi_error_setting(&err, KPI_EINPUT, KPI_SETTING_SHARD);
    assert_string_equal(kpi_options_explain(merge, &err, text, sizeof text),
                        "p: not a partial report (see run --shard)");
    kpi_error_set(&err, KPI_EINPUT, "actuals.csv:3: row has 1 fields, the header has 2");
    assert_string_equal(kpi_options_explain(run, &err, text, sizeof text), err.message);

    /* From the parser: "--grades: " and the library's words, setting kept. */
    assert_fails("--grades: trailing ','", "check", "ds", "--grades", "A:1,");
    assert_fails("--reports: no report named", "run", "ds", "--out", "o", "--reports", "");
}

static void test_options_too_many_formulas_folders(void **state)
{
    struct kpi_command_line cl;
    struct kpi_error err;
    char *argv[3 + 2 * (KPI_FORMULA_DIRS_MAX + 1)];
    int argc = 0;
    char prog[] = "kpieval", check[] = "check", ds[] = "ds", flag[] = "--formulas", dir[] = "f",
         last[] = "f65";
    (void)state;

    argv[argc++] = prog;
    argv[argc++] = check;
    argv[argc++] = ds;
    for (int i = 0; i < KPI_FORMULA_DIRS_MAX; i++) {
        argv[argc++] = flag;
        argv[argc++] = dir;
    }
    argv[argc++] = flag;
    argv[argc++] = last;
    kpi_options_init(&cl);
    assert_int_equal(kpi_options_parse(&cl, argc, argv, &err), KPI_EUSAGE);
    assert_string_equal(err.message, "too many --formulas folders (at 'f65')");
    kpi_options_release(&cl);
    kpi_options_init(&cl);
    assert_int_equal(kpi_options_parse(&cl, argc - 2, argv, &err), 0);
    assert_int_equal(cl.run.n_formula_dirs, 64);
    kpi_options_release(&cl);
}

static void test_options_unknown_option_did_you_mean(void **state)
{
    (void)state;
    /* one letter left out */
    assert_fails("unknown option '--perod' for 'kpieval run'; did you mean '--period'?", "run",
                 "ds", "--perod", "2019");
    /* two letters swapped */
    assert_fails("unknown option '--peroid' for 'kpieval check'; did you mean '--period'?", "check",
                 "ds", "--peroid", "2019");
    assert_fails("unknown option '--qiuet' for 'kpieval merge'; did you mean '--quiet'?", "merge",
                 "o", "p", "--qiuet");
    /* a unique prefix */
    assert_fails("unknown option '--max-m' for 'kpieval run'; did you mean '--max-memory'?", "run",
                 "ds", "--max-m", "3");
    /* a prefix of three options: none offered (and not '--cap', two edits from "max") */
    assert_fails("unknown option '--max' for 'kpieval run'", "run", "ds", "--max", "3");
    /* two edits of three letters: too far ("log") */
    assert_fails("unknown option '--foo' for 'kpieval run'", "run", "ds", "--foo", "3");
    /* only the subcommand's own options are offered */
    assert_fails("unknown option '--ot' for 'kpieval check'", "check", "ds", "--ot", "x");
    assert_fails("unknown option '--ot' for 'kpieval run'; did you mean '--out'?", "run", "ds",
                 "--ot", "x");
    assert_fails("unknown option '--sed' for 'kpieval generate'; did you mean '--seed'?",
                 "generate", "1", "d", "--sed", "3");
    /* one dash */
    assert_fails("unknown option '-period' for 'kpieval run'; did you mean '--period'?", "run",
                 "ds", "-period", "2019");
    /* "--name=value": the name alone is quoted */
    assert_fails("unknown option '--perod' for 'kpieval run'; did you mean '--period'?", "run",
                 "ds", "--perod=2019");
}

static void test_options_not_an_option_of_the_command(void **state)
{
    (void)state;
    assert_fails("'--out' is not an option of 'kpieval check'", "check", "ds", "--out", "x");
    assert_fails("'--shard' is not an option of 'kpieval check'", "check", "ds", "--shard=1/2");
    assert_fails("'--period' is not an option of 'kpieval merge'", "merge", "o", "p", "--period",
                 "1");
    assert_fails("'--quiet' is not an option of 'kpieval generate'", "generate", "1", "d",
                 "--quiet");
    assert_fails("'--seed' is not an option of 'kpieval run'", "run", "ds", "--seed", "1");
}

static void test_options_last_option(void **state)
{
    (void)state;
    assert_fails("option '--period' needs a value", "run", "ds", "--out", "o", "--period");
    assert_fails("option '--seed' needs a value", "generate", "1", "d", "--seed");
    /* not a known value option: not "needs a value" */
    assert_fails("unknown option '--bogus' for 'kpieval run'", "run", "ds", "--out", "o",
                 "--bogus");
    assert_fails("'--out' is not an option of 'kpieval check'", "check", "ds", "--out");
}

/* The parse succeeded for command id, asking for its help or not. */
static void assert_parsed(struct parse *p, enum kpi_command_id id, bool help)
{
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->cl.help, help);
    assert_int_equal(p->cl.command->id, id);
    parse_release(p);
}

static void test_options_help_anywhere(void **state)
{
    struct parse p;
    (void)state;

    /* whatever else is on the line: a bad value, an unknown option */
    parse(&p, "run", "--cap", "abc", "--bogus", "--help", NULL);
    assert_parsed(&p, KPI_CMD_RUN, true);
    parse(&p, "merge", "-h", NULL);
    assert_parsed(&p, KPI_CMD_MERGE, true);
    /* even where it could be a value */
    parse(&p, "generate", "--seed", "--help", NULL);
    assert_parsed(&p, KPI_CMD_GENERATE, true);
    /* kpieval --help, -h: the help command */
    parse(&p, "--help", NULL);
    assert_parsed(&p, KPI_CMD_HELP, false);
    parse(&p, "-h", "run", NULL);
    assert_string_equal(p.cl.operands[0], "run");
    assert_parsed(&p, KPI_CMD_HELP, false);
    /* after "--" it is an operand */
    parse(&p, "check", "--", "--help", NULL);
    assert_int_equal(p.rc, 0);
    assert_false(p.cl.help);
    assert_string_equal(p.cl.operands[0], "--help");
    parse_release(&p);
}

static void test_options_commands(void **state)
{
    struct parse p;
    (void)state;

    /* a swap is one edit (Damerau-Levenshtein); as two (Levenshtein) it
     * would change more than half of three letters and be offered no more */
    assert_fails("unknown command 'rnu'; did you mean 'run'?", "rnu");
    assert_fails("unknown command 'chekc'; did you mean 'check'?", "chekc", "ds");
    assert_fails("unknown command 'gen'; did you mean 'generate'?", "gen");
    assert_fails("unknown command 'merg'; did you mean 'merge'?", "merg");
    assert_fails("unknown command 'xyz'", "xyz");
    assert_fails("unknown command '--quiet'", "--quiet");
    parse(&p, NULL);
    assert_usage_error(&p, "no command given");
    assert_null(p.cl.command);
    parse_release(&p);
    parse(&p, "--version", NULL);
    assert_parsed(&p, KPI_CMD_VERSION, false);
    assert_fails("unexpected argument 'x' for 'kpieval version'", "version", "x");
}

static void test_options_operands(void **state)
{
    struct parse p;
    (void)state;

    assert_fails("no dataset folder given", "run");
    assert_fails("no dataset folder given", "check", "--quiet");
    assert_fails("--out DIR is required", "run", "ds");
    assert_fails("unexpected argument 'b' for 'kpieval run'", "run", "a", "b", "--out", "o");
    assert_fails("merge needs an output folder and at least one part", "merge", "o");
    assert_fails("generate needs N (the number of KPIs) and a folder", "generate", "5");
    assert_fails("unexpected argument 'x' for 'kpieval generate'", "generate", "5", "d", "x");

    /* options between operands; "-" and anything after "--" are operands */
    parse(&p, "merge", "out", "--quiet", "p1", "-", "--", "--p3", NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.cl.n_operands, 4);
    assert_string_equal(p.cl.operands[0], "out");
    assert_string_equal(p.cl.operands[2], "-");
    assert_string_equal(p.cl.operands[3], "--p3");
    assert_true(p.cl.quiet);
    parse_release(&p);
}

static char *capture_help(const struct kpi_command *cmd)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    if (cmd)
        kpi_options_print_help(f, cmd);
    else
        kpi_options_print_usage(f);
    assert_int_equal(fclose(f), 0);
    return text;
}

static const struct kpi_command *command(enum kpi_command_id id)
{
    size_t n;
    const struct kpi_command *commands = kpi_options_commands(&n);
    assert_true((size_t)id < n);
    return &commands[id];
}

static void test_options_help_text(void **state)
{
    char *text;
    (void)state;

    text = capture_help(command(KPI_CMD_MERGE));
    assert_string_equal(text, "usage: kpieval merge OUT PART... [options]\n"
                              "\n"
                              "combine the partial reports of a sharded run into OUT\n"
                              "\n"
                              "options:\n"
                              "  --quiet     print only errors, warnings and the KPIs not ok:\n"
                              "              no summary, no progress bar\n"
                              "  -h, --help  show this help and exit\n");
    free(text);

    text = capture_help(command(KPI_CMD_VERSION));
    assert_string_equal(text, "usage: kpieval version\n"
                              "\n"
                              "show the version\n"
                              "\n"
                              "options:\n"
                              "  -h, --help  show this help and exit\n");
    free(text);

    /* the widest label, "  --max-instructions N", is 22 columns: help at 24 */
    text = capture_help(command(KPI_CMD_RUN));
    assert_true(!strncmp(text, "usage: kpieval run DATASET --out DIR [options]\n\n", 48));
    assert_non_null(strstr(text, "\n  --cap N               cap achievements at N percent "
                                 "(default 120)\n"));
    assert_non_null(strstr(text, "\n  --shard I/N           only the top-level departments of "
                                 "shard I of N,\n"
                                 "                        as a partial report for `kpieval "
                                 "merge`\n"));
    assert_non_null(strstr(text, "\n  --wait   "));
    assert_null(strstr(text, "--seed"));
    free(text);

    text = capture_help(command(KPI_CMD_CHECK));
    assert_true(!strncmp(text, "usage: kpieval check DATASET [options]\n\n", 40));
    assert_null(strstr(text, "--out"));
    assert_null(strstr(text, "--reports"));
    assert_null(strstr(text, "--shard"));
    assert_null(strstr(text, "--wait"));
    assert_non_null(strstr(text, "\n  --max-errors N  "));
    free(text);
}

/* Every row of both tables appears in the general usage and in the help
 * of exactly the commands that take it. */
static void test_options_usage_lists_every_row(void **state)
{
    size_t n_commands, n_options;
    const struct kpi_command *commands = kpi_options_commands(&n_commands);
    const struct kpi_option *options = kpi_options_table(&n_options);
    char *usage = capture_help(NULL);
    char line[128];
    (void)state;

    for (size_t c = 0; c < n_commands; c++) {
        char *help = capture_help(&commands[c]);
        snprintf(line, sizeof line, "\n  kpieval %s", commands[c].name);
        assert_non_null(strstr(usage, line));
        for (size_t i = 0; i < n_options; i++) {
            /* the line's start: "  -h, --help" or "  --cap N" */
            snprintf(line, sizeof line, "\n  %s%s%s%s%s", options[i].alias ? options[i].alias : "",
                     options[i].alias ? ", " : "", options[i].name, options[i].metavar ? " " : "",
                     options[i].metavar ? options[i].metavar : "");
            assert_non_null(strstr(usage, line));
            if (options[i].commands & KPI_CMD_BIT(commands[c].id))
                assert_non_null(strstr(help, line));
            else
                assert_null(strstr(help, line));
        }
        free(help);
    }
    assert_non_null(strstr(usage, "\n  kpieval help [COMMAND]\n"));
    assert_non_null(strstr(usage, "\noptions of run, check and merge:\n"
                                  "  --quiet               print only errors"));
    assert_non_null(strstr(usage, "\noptions of every command:\n"
                                  "  -h, --help            show this help and exit\n"));
    free(usage);
}

static void test_options_tables_are_consistent(void **state)
{
    size_t n_commands, n_options;
    const struct kpi_command *commands = kpi_options_commands(&n_commands);
    const struct kpi_option *options = kpi_options_table(&n_options);
    (void)state;

    assert_int_equal(n_commands, KPI_CMD_COUNT);
    for (size_t c = 0; c < n_commands; c++) {
        assert_int_equal(commands[c].id, c);
        assert_true(commands[c].min_operands <= commands[c].max_operands);
    }
    for (size_t i = 0; i < n_options; i++) {
        assert_true(!strncmp(options[i].name, "--", 2));
        assert_int_equal(options[i].required & ~options[i].commands, 0);
        assert_true(!options[i].required || options[i].metavar);
        assert_true(!options[i].expected || options[i].metavar);
        assert_non_null(options[i].help);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(options[i].name, options[j].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_run_stores_every_value),
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_options_equals_form),
        cmocka_unit_test(test_options_value_messages),
        cmocka_unit_test(test_options_settings_map_to_options),
        cmocka_unit_test(test_options_too_many_formulas_folders),
        cmocka_unit_test(test_options_unknown_option_did_you_mean),
        cmocka_unit_test(test_options_not_an_option_of_the_command),
        cmocka_unit_test(test_options_last_option),
        cmocka_unit_test(test_options_help_anywhere),
        cmocka_unit_test(test_options_commands),
        cmocka_unit_test(test_options_operands),
        cmocka_unit_test(test_options_help_text),
        cmocka_unit_test(test_options_usage_lists_every_row),
        cmocka_unit_test(test_options_tables_are_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
