#include "options.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kpieval/generate.h"
#include "kpieval/report.h"
#include "kpieval/rollup.h"
#include "kpieval/score.h"
#include "text.h"
#include "suggest.h"
#include "words.h"

#define RUN      KPI_CMD_BIT(KPI_CMD_RUN)
#define CHECK    KPI_CMD_BIT(KPI_CMD_CHECK)
#define MERGE    KPI_CMD_BIT(KPI_CMD_MERGE)
#define GENERATE KPI_CMD_BIT(KPI_CMD_GENERATE)
#define EVAL     KPI_CMD_BIT(KPI_CMD_EVAL)
#define TEST     KPI_CMD_BIT(KPI_CMD_TEST)
#define EVALUATE (RUN | CHECK)
#define SANDBOX  (EVALUATE | EVAL | TEST) /* the commands that run formulas */
#define EVERY    (KPI_CMD_BIT(KPI_CMD_COUNT) - 1)

static const struct kpi_command commands[KPI_CMD_COUNT] = {
    {KPI_CMD_RUN, "run", NULL, "DATASET", "evaluate DATASET and write the reports into DIR", 1, 1,
     "no dataset folder given"},
    {KPI_CMD_CHECK, "check", NULL, "DATASET",
     "report what a run of DATASET would reject or warn about; evaluate and write nothing", 1, 1,
     "no dataset folder given"},
    {KPI_CMD_MERGE, "merge", NULL, "OUT PART...",
     "combine the partial reports of a sharded run into OUT", 2, SIZE_MAX,
     "merge needs an output folder and at least one part"},
    {KPI_CMD_GENERATE, "generate", NULL, "N DIR", "write a synthetic plan of N KPIs into DIR", 2, 2,
     "generate needs N (the number of KPIs) and a folder"},
    {KPI_CMD_EVAL, "eval", NULL, "EXPR [NAME=VALUE...]",
     "evaluate one formula on the inputs given, as a run would", 1, SIZE_MAX,
     "eval needs a formula, e.g. kpieval eval 'ratio(a, b)' a=1 b=4"},
    {KPI_CMD_FORMULAS, "formulas", NULL, "[DIR...]",
     "list the plugin formulas of the standard library and each DIR", 0, SIZE_MAX, ""},
    {KPI_CMD_TEST, "test", NULL, "[DIR...]",
     "run the formula tests of each DIR (default: the standard library's)", 0, SIZE_MAX, ""},
    {KPI_CMD_HELP, "help", "--help", "[COMMAND]", "show this usage, or COMMAND's options", 0, 1,
     ""},
    {KPI_CMD_VERSION, "version", "--version", "", "show the version", 0, 0, ""},
};

/* ---- values ------------------------------------------------------------- */

static bool parse_positive(const char *s, double *out)
{
    return kpi_text_parse_number(s, out) == KPI_NUMBER_OK && *out > 0;
}

static bool all_digits_then(const char *s, const char *suffixes)
{
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return !*s || (s[1] == '\0' && strchr(suffixes, *s));
}

/* A whole number >= 0 (>= 1 unless zero_ok) that fits in 64 bits. */
static bool parse_whole(const char *s, bool zero_ok, uint64_t *out)
{
    char *end;
    if (!all_digits_then(s, ""))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || (v == 0 && !zero_ok))
        return false;
    *out = v;
    return true;
}

bool kpi_options_parse_count(const char *s, uint64_t *out)
{
    return parse_whole(s, false, out);
}

static bool parse_bytes(const char *s, size_t *out)
{
    char *end;
    if (!all_digits_then(s, "KkMmGg"))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024ULL, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024ULL * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024ULL * 1024 * 1024, end++;
    if (errno || *end || v == 0 || v > SIZE_MAX / mult)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

/* ---- stores, one per option --------------------------------------------- */

static bool store_out(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    cl->run.out = v;
    return true;
}

static bool store_period(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    cl->run.period = v;
    return true;
}

static bool store_encoding(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    return kpi_encoding_parse(v, &cl->run.encoding, err) == 0;
}

static bool store_cap(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    return parse_positive(v, &cl->run.cap);
}

static bool store_grades(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    return kpi_grades_parse(v, &cl->run.grades, err) == 0;
}

static bool store_unscored(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    return kpi_unscored_parse(v, &cl->run.grades.unscored, err) == 0;
}

static bool store_formulas(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    if (cl->run.n_formula_dirs == KPI_FORMULA_DIRS_MAX) {
        kpi_error_set(err, KPI_EUSAGE, "too many --formulas folders (at '%s')", v);
        return false;
    }
    cl->formula_dirs[cl->run.n_formula_dirs++] = v;
    return true;
}

static bool store_max_instructions(struct kpi_command_line *cl, const char *v,
                                   struct kpi_error *err)
{
    (void)err;
    return parse_whole(v, false, &cl->run.instruction_limit);
}

static bool store_max_memory(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    return parse_bytes(v, &cl->run.memory_limit);
}

static bool store_time_limit(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    return parse_positive(v, &cl->run.time_limit) && cl->run.time_limit <= 86400;
}

static bool store_jobs(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    uint64_t jobs;
    (void)err;
    if (!parse_whole(v, false, &jobs) || jobs > 256)
        return false;
    cl->run.jobs = (unsigned)jobs;
    return true;
}

static bool store_in_process(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)v, (void)err;
    cl->run.in_process = true;
    return true;
}

static bool store_reports(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    return kpi_report_select(v, &cl->run.reports, err) == 0;
}

static bool store_shard(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    unsigned si = 0, sn = 0;
    size_t d1 = strspn(v, "0123456789");
    size_t d2 = v[d1] == '/' ? strspn(v + d1 + 1, "0123456789") : 0;
    (void)err;
    if (!d1 || d1 > 6 || !d2 || d2 > 6 || v[d1 + 1 + d2] || sscanf(v, "%u/%u", &si, &sn) != 2 ||
        sn < 1 || sn > KPI_SHARDS_MAX || si < 1 || si > sn)
        return false;
    cl->run.shard_index = si;
    cl->run.shard_count = sn;
    return true;
}

static bool store_lang(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    return kpi_lang_parse(v, &cl->run.lang, err) == 0;
}

static bool store_csv_bom(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)v, (void)err;
    cl->run.csv_bom = true;
    return true;
}

static bool store_evaluate(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)v, (void)err;
    cl->evaluate = true;
    return true;
}

static bool store_wait(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)v, (void)err;
    cl->run.wait = true;
    return true;
}

static bool store_max_errors(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    uint64_t n;
    (void)err;
    if (!parse_whole(v, true, &n) || n > SIZE_MAX)
        return false;
    cl->run.has_max_errors = true;
    cl->run.max_errors = (size_t)n;
    return true;
}

static bool store_log(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    if (strcmp(v, "json") && strcmp(v, "text"))
        return false;
    cl->log_json = !strcmp(v, "json");
    return true;
}

static bool store_quiet(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)v, (void)err;
    cl->quiet = true;
    return true;
}

static bool store_seed(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    return parse_whole(v, true, &cl->seed);
}

/* eval keeps --target and --baseline as the cells a run would read. */
static bool store_number_cell(const char **cell, const char *v)
{
    double x;
    *cell = v;
    return kpi_text_parse_number(v, &x) == KPI_NUMBER_OK;
}

static bool store_target(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    return store_number_cell(&cl->target, v);
}

static bool store_baseline(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    return store_number_cell(&cl->baseline, v);
}

static bool store_direction(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    cl->direction = v;
    return !strcmp(v, "increase") || !strcmp(v, "decrease");
}

static bool store_scoring(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)err;
    cl->scoring = v;
    return *v != '\0';
}

static bool store_help(struct kpi_command_line *cl, const char *v, struct kpi_error *err)
{
    (void)v, (void)err;
    cl->help = true;
    return true;
}

/* The only list of options: parsing, each subcommand's --help and the
 * general usage all read it. */
static const struct kpi_option options[] = {
    {"--out", NULL, "DIR", RUN, RUN, store_out, NULL, "write the reports to DIR"},
    {"--period", NULL, "P", EVALUATE, 0, store_period, NULL, "evaluate the actuals of period P"},
    {"--encoding", NULL, "NAME", EVALUATE, 0, store_encoding, NULL,
     "of indicators.csv and actuals.csv: utf-8 (default),\n"
     "cp949 or euc-kr (Korean Excel exports)"},
    {"--cap", NULL, "N", EVALUATE | EVAL, 0, store_cap, "expected a number > 0",
     "cap achievements at N percent (default 120)"},
    {"--grades", NULL, "SPEC", EVALUATE, 0, store_grades, NULL,
     "grade bands, default " KPI_DEFAULT_GRADES},
    {"--unscored", NULL, "POLICY", EVALUATE, 0, store_unscored, NULL,
     "how KPIs that could not be scored count in a department:\n"
     "zero: at their weight with achievement 0 (default);\n"
     "skip: left out of the mean"},
    {"--formulas", NULL, "DIR", EVALUATE | EVAL, 0, store_formulas, NULL,
     "more plugin formulas; may repeat, later ones shadow"},
    {"--max-instructions", NULL, "N", SANDBOX, 0, store_max_instructions,
     "expected a whole number > 0", "Lua instructions per formula (default 1000000)"},
    {"--max-memory", NULL, "BYTES", SANDBOX, 0, store_max_memory, "expected bytes, e.g. 32M",
     "Lua memory per formula, K/M/G suffixes (default 32M)"},
    {"--time-limit", NULL, "SECONDS", SANDBOX, 0, store_time_limit,
     "expected seconds, > 0 and <= 86400", "CPU time per formula (default 2)"},
    {"--jobs", NULL, "N", EVALUATE, 0, store_jobs, "expected a whole number from 1 to 256",
     "worker processes (default: one per CPU)"},
    {"--in-process", NULL, NULL, EVALUATE, 0, store_in_process, NULL,
     "evaluate without worker processes (debugging only)"},
    {"--reports", NULL, "LIST", RUN, 0, store_reports, NULL,
     "write only these, e.g. kpis.csv,departments.csv"}, /* + the names: print_options */
    {"--lang", NULL, "LANG", RUN, 0, store_lang, NULL,
     "en (default) or ko: the language of the headers and\n"
     "kpieval's words in the CSV, HTML and Excel reports"},
    {"--csv-bom", NULL, NULL, RUN, 0, store_csv_bom, NULL,
     "start each CSV with a UTF-8 byte order mark, so that\n"
     "Korean Excel opens it as UTF-8"},
    {"--shard", NULL, "I/N", RUN, 0, store_shard, "expected I/N with 1 <= I <= N, e.g. 2/8",
     "only the top-level departments of shard I of N,\n"
     "as a partial report for `kpieval merge`"},
    {"--evaluate", NULL, NULL, CHECK, 0, store_evaluate, NULL,
     "then evaluate every KPI as a run does and print the\n"
     "department table (still writing nothing)"},
    {"--wait", NULL, NULL, RUN, 0, store_wait, NULL,
     "wait while another run writes the same --out"},
    {"--max-errors", NULL, "N", EVALUATE, 0, store_max_errors, "expected a whole number >= 0",
     "more than N KPIs in error: write nothing, exit 2"},
    {"--log", NULL, "FORMAT", EVALUATE, 0, store_log, "expected 'json' or 'text'",
     "json: events as JSON lines on stderr, for log collectors;\n"
     "text: for people (default)"},
    {"--quiet", NULL, NULL, EVALUATE | MERGE, 0, store_quiet, NULL,
     "print only errors, warnings and the KPIs not ok:\n"
     "no summary, no progress bar"},
    {"--seed", NULL, "S", GENERATE, 0, store_seed, "expected a whole number",
     "random seed (default 2019); the same N and S, the same plan"},
    {"--target", NULL, "T", EVAL, 0, store_target, "expected a number",
     "score the value against target T, as a run does"},
    {"--direction", NULL, "D", EVAL, 0, store_direction, "expected 'increase' or 'decrease'",
     "with --target: increase (default) or decrease"},
    {"--scoring", NULL, "RULE", EVAL, 0, store_scoring, "expected a rule or an expression",
     "with --target: linear, baseline, binary or a Lua\n"
     "expression (default: the direction's ratio)"},
    {"--baseline", NULL, "B", EVAL, 0, store_baseline, "expected a number",
     "with --target: the baseline (linear and baseline rules)"},
    {"--help", "-h", NULL, EVERY, 0, store_help, NULL, "show this help and exit"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

const struct kpi_command *kpi_options_commands(size_t *n)
{
    *n = KPI_CMD_COUNT;
    return commands;
}

const struct kpi_option *kpi_options_table(size_t *n)
{
    *n = N_OPTIONS;
    return options;
}

void kpi_options_init(struct kpi_command_line *cl)
{
    struct kpi_error err;
    memset(cl, 0, sizeof *cl);
    cl->run.cap = KPI_DEFAULT_CAP;
    cl->run.formula_dirs = cl->formula_dirs;
    cl->seed = KPI_GENERATE_DEFAULT_SEED;
    int rc = kpi_grades_parse(KPI_DEFAULT_GRADES, &cl->run.grades, &err);
    assert(rc == 0);
    (void)rc;
}

void kpi_options_release(struct kpi_command_line *cl)
{
    free(cl->operands);
    cl->operands = NULL;
    cl->n_operands = 0;
}

/* ---- did you mean ------------------------------------------------------- */

/* Adds "; did you mean 'NAME'?" to err's message when there is a NAME. */
static int with_suggestion(struct kpi_error *err, const struct kpi_suggest *s)
{
    const char *pick = kpi_suggest_pick(s);
    if (pick) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used, "; did you mean '%s'?", pick);
    }
    return err->code;
}

int kpi_options_find_command(const char *name, const struct kpi_command **cmd,
                             struct kpi_error *err)
{
    struct kpi_suggest s;

    kpi_suggest_init(&s, name, strlen(name), true);
    for (size_t i = 0; i < KPI_CMD_COUNT; i++) {
        if (!strcmp(name, commands[i].name) ||
            (commands[i].alias && !strcmp(name, commands[i].alias))) {
            *cmd = &commands[i];
            return 0;
        }
        kpi_suggest_offer(&s, commands[i].name, 0);
    }
    kpi_error_set(err, KPI_EUSAGE, "unknown command '%s'", name);
    return with_suggestion(err, &s);
}

/* ---- parsing ------------------------------------------------------------ */

/* The row called arg (up to len bytes), by its name or its alias. */
static const struct kpi_option *find_option(const char *arg, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *alias = options[i].alias;
        if ((strlen(options[i].name) == len && !strncmp(arg, options[i].name, len)) ||
            (alias && strlen(alias) == len && !strncmp(arg, alias, len)))
            return &options[i];
    }
    return NULL;
}

static bool takes(const struct kpi_option *o, const struct kpi_command *cmd)
{
    return o->commands & KPI_CMD_BIT(cmd->id);
}

/* True when option name "--max-errors" is setting "max_errors": the name
 * without its dashes, '-' read as '_'. */
static bool sets(const char *name, const char *setting)
{
    name += strspn(name, "-");
    for (; *name && *setting; name++, setting++)
        if (*name == '-' ? *setting != '_' : *name != *setting)
            return false;
    return !*name && !*setting;
}

const struct kpi_option *kpi_options_for_setting(const char *setting)
{
    for (size_t i = 0; setting && i < N_OPTIONS; i++)
        if (sets(options[i].name, setting))
            return &options[i];
    return NULL;
}

const char *kpi_options_explain(const struct kpi_command *cmd, const struct kpi_error *err,
                                char *out, size_t size)
{
    const struct kpi_option *o = kpi_options_for_setting(err->setting);
    size_t c = 0;

    if (o && !(cmd && takes(o, cmd)))
        while (c < KPI_CMD_COUNT && !(o->commands & KPI_CMD_BIT(c)))
            c++;
    if (!o || c == KPI_CMD_COUNT)
        snprintf(out, size, "%s", err->message);
    else if (cmd && takes(o, cmd))
        snprintf(out, size, "%s (see %s)", err->message, o->name);
    else
        snprintf(out, size, "%s (see %s %s)", err->message, commands[c].name, o->name);
    return out;
}

static bool is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

static int unknown_option(const struct kpi_command *cmd, const char *arg, size_t len,
                          struct kpi_error *err)
{
    struct kpi_suggest s;
    const char *bare = arg + strspn(arg, "-");

    kpi_suggest_init(&s, bare, len - (size_t)(bare - arg), true);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (takes(&options[i], cmd))
            kpi_suggest_offer(&s, options[i].name, strspn(options[i].name, "-"));
    kpi_error_set(err, KPI_EUSAGE, "unknown option '%.*s' for 'kpieval %s'", (int)len, arg,
                  cmd->name);
    return with_suggestion(err, &s);
}

/* One option at argv[*i], with its value from "=VALUE" or argv[*i + 1];
 * marks its row in given[]. */
static int parse_option(struct kpi_command_line *cl, int argc, char **argv, int *i, bool *given,
                        struct kpi_error *err)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct kpi_option *o = find_option(arg, len);
    const char *value = NULL;

    if (!o)
        return unknown_option(cl->command, arg, len, err);
    if (!takes(o, cl->command))
        return kpi_error_set(err, KPI_EUSAGE, "'%s' is not an option of 'kpieval %s'", o->name,
                             cl->command->name);
    if (!o->metavar && eq)
        return kpi_error_set(err, KPI_EUSAGE, "option '%s' takes no value", o->name);
    if (o->metavar) {
        if (eq)
            value = eq + 1;
        else if (*i + 1 < argc)
            value = argv[++*i];
        else
            return kpi_error_set(err, KPI_EUSAGE, "option '%s' needs a value", o->name);
    }
    given[o - options] = true;
    if (o->store(cl, value, err))
        return 0;
    if (o->expected)
        return kpi_error_set(err, KPI_EUSAGE, "%s '%s': %s", o->name, value, o->expected);
    if (err->setting) { /* the library's words for the value: "--grades: ..." */
        const char *setting = err->setting;
        char words[sizeof err->message];
        assert(kpi_options_for_setting(setting) == o);
        snprintf(words, sizeof words, "%s", err->message);
        kpi_error_set(err, err->code, "%s: %s", o->name, words);
        kpi_error_setting(err, err->code, setting);
    }
    return err->code;
}

static bool is_help(const char *arg)
{
    const struct kpi_option *o = find_option(arg, strlen(arg));
    return o && o->store == store_help;
}

int kpi_options_parse(struct kpi_command_line *cl, int argc, char **argv, struct kpi_error *err)
{
    const struct kpi_command *cmd;
    bool options_end = false, given[N_OPTIONS] = {false};
    int rc;

    if (argc < 2)
        return kpi_error_set(err, KPI_EUSAGE, "no command given");
    if (is_help(argv[1]))
        cmd = &commands[KPI_CMD_HELP]; /* kpieval --help, kpieval -h */
    else if ((rc = kpi_options_find_command(argv[1], &cmd, err)))
        return rc;
    cl->command = cmd;
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++) {
        if (is_help(argv[i])) {
            cl->help = true;
            return 0;
        }
    }
    cl->operands = calloc((size_t)argc, sizeof *cl->operands);
    if (!cl->operands)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (int i = 2; i < argc; i++) {
        if (!options_end && !strcmp(argv[i], "--"))
            options_end = true;
        else if (!options_end && is_option(argv[i])) {
            if ((rc = parse_option(cl, argc, argv, &i, given, err)))
                return rc;
        } else if (cl->n_operands == cmd->max_operands)
            return kpi_error_set(err, KPI_EUSAGE, "unexpected argument '%s' for 'kpieval %s'",
                                 argv[i], cmd->name);
        else
            cl->operands[cl->n_operands++] = argv[i];
    }
    if (cl->n_operands < cmd->min_operands)
        return kpi_error_set(err, KPI_EUSAGE, "%s", cmd->too_few);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if ((options[i].required & KPI_CMD_BIT(cmd->id)) && !given[i])
            return kpi_error_set(err, KPI_EUSAGE, "%s %s is required", options[i].name,
                                 options[i].metavar);
    return 0;
}

/* ---- help --------------------------------------------------------------- */

/* "  -h, --help" or "  --cap N": the left column of an option's line. */
static int option_label(char *buf, size_t size, const struct kpi_option *o)
{
    return snprintf(buf, size, "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
                    o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

/* Prints text with every line after the first indented to column. */
static void print_indented(FILE *f, const char *text, int column)
{
    for (const char *nl; (nl = strchr(text, '\n')); text = nl + 1)
        fprintf(f, "%.*s\n%*s", (int)(nl - text), text, column, "");
    fputs(text, f);
}

/* The left column's width for the options that the commands in mask take. */
static int label_column(unsigned mask)
{
    char label[64];
    int column = 0;

    for (size_t i = 0; i < N_OPTIONS; i++) {
        int n = option_label(label, sizeof label, &options[i]);
        if ((options[i].commands & mask) && n > column)
            column = n;
    }
    return column + 2;
}

/* One line per option whose subcommands are exactly `commands` (all when
 * exact is false: those any of them takes), help at column. */
static void print_options(FILE *f, unsigned commands_mask, bool exact, int column)
{
    char label[64];

    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct kpi_option *o = &options[i];
        if (exact ? o->commands != commands_mask : !(o->commands & commands_mask))
            continue;
        int n = option_label(label, sizeof label, o);
        fprintf(f, "%s%*s", label, column - n, "");
        print_indented(f, o->help, column);
        if (o->store == store_reports) {
            /* The names come from the sinks table, the only list of them. */
            char names[512];
            size_t used = (size_t)snprintf(names, sizeof names, "\n(default: all of ");
            for (size_t k = 0, shown = 0; k < kpi_report_sinks() && used < sizeof names; k++)
                if (kpi_report_sink(k)->flags & KPI_SINK_OPTIONAL)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                             shown++ ? "," : "", kpi_report_sink(k)->name);
            if (used < sizeof names)
                used += (size_t)snprintf(names + used, sizeof names - used, ")");
            for (size_t k = 0; k < kpi_report_sinks() && used < sizeof names; k++)
                if (kpi_report_sink(k)->flags & KPI_SINK_ON_REQUEST_ABOVE)
                    used += (size_t)snprintf(names + used, sizeof names - used,
                                             "\n%s: above %d KPIs only when named",
                                             kpi_report_sink(k)->name, KPI_SINK_DEFAULT_KPIS_MAX);
            print_indented(f, names, column);
        }
        putc('\n', f);
    }
}

/* "run DATASET --out DIR [options]": the name, the operands, the options
 * the command requires, and "[options]" when it takes any but --help. */
static void print_synopsis(FILE *f, const struct kpi_command *cmd)
{
    bool more = false;

    fprintf(f, "%s%s%s", cmd->name, *cmd->operands ? " " : "", cmd->operands);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].required & KPI_CMD_BIT(cmd->id))
            fprintf(f, " %s %s", options[i].name, options[i].metavar);
        else if (takes(&options[i], cmd) && options[i].store != store_help)
            more = true;
    }
    if (more)
        fputs(" [options]", f);
}

void kpi_options_print_help(FILE *f, const struct kpi_command *cmd)
{
    fputs("usage: kpieval ", f);
    print_synopsis(f, cmd);
    fprintf(f, "\n\n%s\n\noptions:\n", cmd->summary);
    print_options(f, KPI_CMD_BIT(cmd->id), false, label_column(KPI_CMD_BIT(cmd->id)));
}

/* "run, check and merge", or "every command". */
static void print_command_list(FILE *f, unsigned mask)
{
    size_t left = 0;

    if (mask == EVERY) {
        fputs("every command", f);
        return;
    }
    for (size_t c = 0; c < KPI_CMD_COUNT; c++)
        left += (mask & KPI_CMD_BIT(c)) != 0;
    for (size_t c = 0; c < KPI_CMD_COUNT; c++) {
        if (!(mask & KPI_CMD_BIT(c)))
            continue;
        left--;
        fprintf(f, "%s%s", commands[c].name, left > 1 ? ", " : left == 1 ? " and " : "");
    }
}

void kpi_options_print_usage(FILE *f)
{
    fputs("usage: kpieval COMMAND [ARGUMENTS] [options]\n\n"
          "commands (see 'kpieval COMMAND --help' for one's options):\n",
          f);
    for (size_t i = 0; i < KPI_CMD_COUNT; i++) {
        fputs("  kpieval ", f);
        print_synopsis(f, &commands[i]);
        fprintf(f, "\n      %s\n", commands[i].summary);
    }
    /* The options grouped by the subcommands that take them, in the
     * order each group first appears in the table. */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        unsigned mask = options[i].commands;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || options[j].commands == mask;
        if (seen)
            continue;
        fputs("\noptions of ", f);
        print_command_list(f, mask);
        fputs(":\n", f);
        print_options(f, mask, true, label_column(EVERY));
    }
    fputs("\nexit status: 0 all KPIs ok, 1 some KPIs not ok (reports written),\n"
          "2 usage or input error (nothing written)\n",
          f);
}
