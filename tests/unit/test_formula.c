/* Unit tests of formula evaluation on a loaded dataset: name resolution,
 * statuses and messages, isolation between KPIs, and plugins
 * (docs/formats.md, "Plugin formulas", "Evaluation", "Statuses"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "formula.h"
#include "kpieval/dataset.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];
static char plugins_a[SCRATCH_PATH_MAX]; /* counter, pick (1), type, fresh */
static char plugins_b[SCRATCH_PATH_MAX]; /* pick (2) */
static char main_dataset[SCRATCH_PATH_MAX];

/* One KPI per behaviour; every actual is in period 2019. */
static const char indicators[] = "id,name,department,target,formula,factor,scoring,baseline\n"
                                 "OK1,a,d,1,employed / population * 100,,,\n"
                                 "BLOCK,a,d,1,local r = a / b return r * 100,,,\n"
                                 "KPIF,a,d,50,kpi.target * 2,,,\n"
                                 "EXTRA,a,d,1,tonumber(kpi.factor) * x,3,,\n"
                                 "KNAME,일자리,d,1,#kpi.name,,,\n"
                                 "COMMENT,a,d,1,x * 2 -- doubled,,,\n"
                                 "MISS,a,d,1,a + b,,,\n"
                                 "TYPO,a,d,1,maths.floor(a),,,\n"
                                 "SYNTAX,a,d,1,a +,,,\n"
                                 "CALLTYPO,a,d,1,\"ratoi(a, 2)\",,,\n"
                                 "NEARIN,a,d,1,emplyed + 1,,,\n"
                                 "STR,a,d,1,'abc',,,\n"
                                 "BOOL,a,d,1,1 > 0,,,\n"
                                 "TBL,a,d,1,{},,,\n"
                                 "NIL,a,d,1,nil,,,\n"
                                 "NAN,a,d,1,0/0,,,\n"
                                 "INF,a,d,1,1/0,,,\n"
                                 "NINF,a,d,1,-1/0,,,\n"
                                 "DIV0,a,d,1,a / z,,,\n"
                                 "RTE,a,d,1,error('boom'),,,\n"
                                 "LEAK1,a,d,1,leaked = 7 return 1,,,\n"
                                 "LEAK2,a,d,1,\"rawget(_ENV, 'leaked') == nil and 1 or 2\",,,\n"
                                 "LIBW,a,d,1,math.pi = 1 return 1,,,\n"
                                 "LIBR,a,d,1,math.floor(math.pi),,,\n"
                                 "CNT1,a,d,1,counter(),,,\n"
                                 "CNT2,a,d,1,counter(),,,\n"
                                 "CNT3,a,d,1,counter() + counter(),,,\n"
                                 "FRESH1,a,d,1,fresh(),,,\n"
                                 "FRESH2,a,d,1,fresh(),,,\n"
                                 "PICK,a,d,1,pick(),,,\n"
                                 "SHADOWIN,a,d,1,pick,,,\n"
                                 "TYPE,a,d,1,type(),,,\n"
                                 "KPIIN,a,d,1,kpi + 1,,,\n"
                                 "INP1,a,d,1,\"input('a', 10)\",,,\n"
                                 "INP2,a,d,1,\"input('zzz', 10)\",,,\n"
                                 "INP3,a,d,1,input('zzz'),,,\n"
                                 "SCORE,a,d,40,x,,actual / target * 100,\n"
                                 "SCOREB,a,d,40,x,,baseline + actual,5\n"
                                 "SCOREBAD,a,d,40,x,,actual * bogus,\n"
                                 "SCORENAN,a,d,40,x,,0/0,\n"
                                 "SCORESTR,a,d,40,x,,'high',\n"
                                 "LOOP,a,d,1,(function() while true do end end)(),,,\n"
                                 "HOG,a,d,1,\"#string.rep('x', 1e8)\",,,\n"
                                 "FORBID1,a,d,1,os.time(),,,\n"
                                 "FORBID2,a,d,1,print(1),,,\n"
                                 "PEEK,a,d,1,peek(),,,\n"
                                 "NESTED,a,d,1,double_pick(),,,\n"
                                 "KVPLUG,a,d,1,read_other(),,,\n"
                                 "KVROWS,a,d,1,kpi_value('OK1'),,,\n"
                                 "KVHIDDEN,a,d,1,_ENV.kpi_value('OK1'),,,\n";

static const char actuals[] = "indicator,input,value,period\n"
                              "OK1,employed,30,2019\n"
                              "OK1,population,120,2019\n"
                              "BLOCK,a,1,2019\n"
                              "BLOCK,b,4,2019\n"
                              "EXTRA,x,7,2019\n"
                              "COMMENT,x,4,2019\n"
                              "MISS,a,1,2019\n"
                              "TYPO,a,1,2019\n"
                              "CALLTYPO,a,1,2019\n"
                              "NEARIN,employed,1,2019\n"
                              "DIV0,a,1,2019\n"
                              "DIV0,z,0,2019\n"
                              "SHADOWIN,pick,5,2019\n"
                              "KPIIN,kpi,9,2019\n"
                              "INP1,a,3,2019\n"
                              "SCORE,x,30,2019\n"
                              "SCOREB,x,30,2019\n"
                              "SCOREBAD,x,30,2019\n"
                              "SCORENAN,x,30,2019\n"
                              "SCORESTR,x,30,2019\n"
                              "PEEK,employed,1,2019\n";

static int setup_files(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    (void)state;
    scratch_fresh_dir(tmp, "formula");
    scratch_fresh_subdir(plugins_a, tmp, "plugins_a");
    /* A counter in an upvalue: each KPI must get its own instance. */
    scratch_write_in(plugins_a, "counter.lua",
                     "-- counter(): 1, 2, 3, ... within one KPI\n"
                     "local n = 0\n"
                     "return function() n = n + 1 return n end\n");
    /* A global of the plugin: also fresh per KPI. */
    scratch_write_in(plugins_a, "fresh.lua",
                     "total = (total or 0) + 1\n"
                     "return function() total = total + 1 return total end\n");
    scratch_write_in(plugins_a, "pick.lua", "return function() return 1 end\n");
    /* A plugin named like a library function shadows it. */
    scratch_write_in(plugins_a, "type.lua", "return function() return 42 end\n");
    /* Plugins see neither the KPI's inputs nor kpi: 1 when both are nil. */
    scratch_write_in(plugins_a, "peek.lua",
                     "return function() return (kpi == nil and employed == nil) and 1 or 0 end\n");
    /* Plugins see other plugins. */
    scratch_write_in(plugins_a, "double_pick.lua", "return function() return pick() * 2 end\n");
    /* Plugins cannot read other KPIs: what a KPI reads is in its formula. */
    scratch_write_in(plugins_a, "read_other.lua",
                     "return function() return kpi_value('OK1') end\n");
    scratch_fresh_subdir(plugins_b, tmp, "plugins_b");
    scratch_write_in(plugins_b, "pick.lua", "return function() return 2 end\n");
    scratch_dataset(dir, tmp, "main", indicators, actuals);
    snprintf(main_dataset, sizeof main_dataset, "%s", dir);
    return 0;
}

struct fixture {
    kpi_dataset *ds;
    kpi_formulas *fe;
};

static struct fixture open_limited(const char *const *dirs, size_t n_dirs, uint64_t instructions,
                                   size_t memory)
{
    struct fixture fx = {0};
    struct kpi_load_options opt = {NULL};
    struct kpi_sandbox_limits limits = {instructions, memory, 0};
    struct kpi_error err = {0};
    if (kpi_dataset_load(main_dataset, &opt, &fx.ds, &err) != 0)
        fail_msg("load: %s", err.message);
    if (kpi_formulas_new(fx.ds, &limits, dirs, n_dirs, &fx.fe, &err) != 0)
        fail_msg("formulas: %s", err.message);
    return fx;
}

static struct fixture open_fixture(const char *const *dirs, size_t n_dirs, uint64_t instructions)
{
    return open_limited(dirs, n_dirs, instructions, 0);
}

static void close_fixture(struct fixture *fx)
{
    kpi_formulas_free(fx->fe);
    kpi_dataset_free(fx->ds);
}

static const struct kpi_indicator *find(const kpi_dataset *ds, const char *id)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ks[i].id, id))
            return &ks[i];
    }
    fail_msg("no indicator '%s'", id);
    return NULL;
}

/* Evaluates KPI id; the message (or "") in msg. */
static enum kpi_status eval(struct fixture *fx, const char *id, double *actual,
                            char msg[KPI_MESSAGE_MAX])
{
    const struct kpi_indicator *k = find(fx->ds, id);
    if (k->invalid)
        fail_msg("%s is invalid in the dataset: %s", id, k->invalid);
    msg[0] = '\0';
    *actual = -999;
    return kpi_formulas_eval(fx->fe, k, actual, msg);
}

/* Evaluates KPI id, which must be ok; returns its value. */
static double eval_ok(struct fixture *fx, const char *id)
{
    char msg[KPI_MESSAGE_MAX];
    double v;
    enum kpi_status st = eval(fx, id, &v, msg);
    if (st != KPI_STATUS_OK)
        fail_msg("%s: status %d: %s", id, (int)st, msg);
    return v;
}

static void test_formula_values(void **state)
{
    const char *dirs[] = {plugins_a, plugins_b};
    struct fixture fx = open_fixture(dirs, 2, 0);
    (void)state;
    /* 30 / 120 * 100 = 25 */
    assert_near(eval_ok(&fx, "OK1"), 25, 1e-12);
    /* A block of statements: r = 1 / 4 = 0.25; 0.25 * 100 = 25 */
    assert_near(eval_ok(&fx, "BLOCK"), 25, 1e-12);
    /* kpi.target = 50; 50 * 2 = 100 */
    assert_near(eval_ok(&fx, "KPIF"), 100, 0);
    /* The extra column "factor" is the string "3": 3 * 7 = 21 */
    assert_near(eval_ok(&fx, "EXTRA"), 21, 0);
    /* "일자리" is 3 Hangul syllables x 3 bytes = 9 bytes */
    assert_near(eval_ok(&fx, "KNAME"), 9, 0);
    /* A trailing comment does not swallow the closing of the expression:
     * 4 * 2 = 8 */
    assert_near(eval_ok(&fx, "COMMENT"), 8, 0);
    /* floor(3.14159...) = 3 */
    assert_near(eval_ok(&fx, "LIBR"), 3, 0);
    close_fixture(&fx);
}

static void test_formula_missing_input_names_input_kpi_and_period(void **state)
{
    const char *dirs[] = {plugins_a};
    struct fixture fx = open_fixture(dirs, 1, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    assert_int_equal(eval(&fx, "MISS", &v, msg), KPI_STATUS_MISSING);
    assert_contains(msg, "'b'");
    assert_contains(msg, "MISS");
    assert_contains(msg, "2019");
    /* A misspelt library name is a name found nowhere: missing too. */
    assert_int_equal(eval(&fx, "TYPO", &v, msg), KPI_STATUS_MISSING);
    assert_contains(msg, "'maths'");
    assert_contains(msg, "did you mean 'math'?");
    close_fixture(&fx);
}

static void test_formula_syntax_error_is_invalid(void **state)
{
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    assert_int_equal(eval(&fx, "SYNTAX", &v, msg), KPI_STATUS_INVALID);
    /* Where: the file's line of the row (the header is line 1, SYNTAX is
     * the 9th row: line 10), then the KPI. */
    assert_starts_with(msg, "indicators.csv:10: 'SYNTAX': the formula does not compile: ");
    close_fixture(&fx);
}

/* A called name that is nothing is a misspelt function, never a missing
 * input (an input is a number): an error with the near plugin or library
 * name. A name near one of the KPI's inputs stays missing, with the
 * suggestion. */
static void test_formula_unknown_function_and_near_input(void **state)
{
    const char *dirs[] = {plugins_a};
    struct fixture fx = open_fixture(dirs, 1, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    assert_int_equal(eval(&fx, "CALLTYPO", &v, msg), KPI_STATUS_ERROR);
    assert_contains(msg, "unknown function 'ratoi'");
    assert_int_equal(eval(&fx, "NEARIN", &v, msg), KPI_STATUS_MISSING);
    assert_contains(msg, "input 'emplyed' missing");
    assert_contains(msg, "did you mean 'employed'?");
    close_fixture(&fx);
}

struct type_case {
    const char *id;
    const char *type_word;
};

static void test_formula_non_number_result_is_error(void **state)
{
    static const struct type_case cases[] = {
        {"STR", "string"},
        {"BOOL", "boolean"},
        {"TBL", "table"},
        {"NIL", "nil"},
    };
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum kpi_status st = eval(&fx, cases[i].id, &v, msg);
        if (st != KPI_STATUS_ERROR)
            fail_msg("%s: status %d, expected error", cases[i].id, (int)st);
        assert_starts_with(msg, cases[i].id);
        assert_contains(msg, cases[i].type_word);
    }
    close_fixture(&fx);
}

static void test_formula_non_finite_result_is_error(void **state)
{
    static const char *const ids[] = {"NAN", "INF", "NINF", "DIV0"};
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        enum kpi_status st = eval(&fx, ids[i], &v, msg);
        if (st != KPI_STATUS_ERROR)
            fail_msg("%s: status %d, expected error", ids[i], (int)st);
        assert_starts_with(msg, ids[i]);
    }
    close_fixture(&fx);
}

static void test_formula_runtime_error_message(void **state)
{
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    assert_int_equal(eval(&fx, "RTE", &v, msg), KPI_STATUS_ERROR);
    assert_starts_with(msg, "RTE:1:");
    assert_contains(msg, "boom");
    /* Writing into the library is refused. */
    assert_int_equal(eval(&fx, "LIBW", &v, msg), KPI_STATUS_ERROR);
    assert_starts_with(msg, "LIBW");
    close_fixture(&fx);
}

static void test_formula_globals_do_not_leak_between_kpis(void **state)
{
    struct fixture fx = open_fixture(NULL, 0, 0);
    (void)state;
    /* LEAK1 sets a global; LEAK2 gives 1 only when it cannot see it. */
    assert_near(eval_ok(&fx, "LEAK1"), 1, 0);
    assert_near(eval_ok(&fx, "LEAK2"), 1, 0);
    /* The library is unchanged by LIBW's attempt: floor(pi) is still 3. */
    char msg[KPI_MESSAGE_MAX];
    double v;
    eval(&fx, "LIBW", &v, msg);
    assert_near(eval_ok(&fx, "LIBR"), 3, 0);
    close_fixture(&fx);
}

static void test_formula_plugin_state_is_fresh_per_kpi(void **state)
{
    const char *dirs[] = {plugins_a};
    struct fixture fx = open_fixture(dirs, 1, 0);
    (void)state;
    /* Each KPI gets a new instance: n starts at 0, the first call gives 1. */
    assert_near(eval_ok(&fx, "CNT1"), 1, 0);
    assert_near(eval_ok(&fx, "CNT2"), 1, 0);
    assert_near(eval_ok(&fx, "CNT1"), 1, 0);
    /* Within one KPI the instance is shared: 1 + 2 = 3. */
    assert_near(eval_ok(&fx, "CNT3"), 3, 0);
    /* The plugin's global: total = 0 + 1 when loaded, + 1 when called = 2. */
    assert_near(eval_ok(&fx, "FRESH1"), 2, 0);
    assert_near(eval_ok(&fx, "FRESH2"), 2, 0);
    close_fixture(&fx);
}

static void test_formula_plugin_shadowing_order(void **state)
{
    (void)state;
    {
        /* A later folder shadows an earlier one. */
        const char *dirs[] = {plugins_a, plugins_b};
        struct fixture fx = open_fixture(dirs, 2, 0);
        assert_near(eval_ok(&fx, "PICK"), 2, 0);
        /* Plugins in only the earlier folder stay visible. */
        assert_near(eval_ok(&fx, "CNT1"), 1, 0);
        close_fixture(&fx);
    }
    {
        const char *dirs[] = {plugins_b, plugins_a};
        struct fixture fx = open_fixture(dirs, 2, 0);
        assert_near(eval_ok(&fx, "PICK"), 1, 0);
        close_fixture(&fx);
    }
}

static void test_formula_name_resolution_order(void **state)
{
    const char *dirs[] = {plugins_a};
    struct fixture fx = open_fixture(dirs, 1, 0);
    (void)state;
    /* Inputs before plugins: input pick = 5, not the plugin. */
    assert_near(eval_ok(&fx, "SHADOWIN"), 5, 0);
    /* Inputs before kpi: input kpi = 9, 9 + 1 = 10. */
    assert_near(eval_ok(&fx, "KPIIN"), 10, 0);
    /* Plugins before the library: type() is the plugin's 42. */
    assert_near(eval_ok(&fx, "TYPE"), 42, 0);
    close_fixture(&fx);
}

static void test_formula_input_with_default(void **state)
{
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    /* a = 3 exists: the default 10 is not used. */
    assert_near(eval_ok(&fx, "INP1"), 3, 0);
    /* zzz does not exist: the default 10. */
    assert_near(eval_ok(&fx, "INP2"), 10, 0);
    /* zzz without a default: missing, naming zzz. */
    assert_int_equal(eval(&fx, "INP3", &v, msg), KPI_STATUS_MISSING);
    assert_contains(msg, "'zzz'");
    assert_contains(msg, "INP3");
    close_fixture(&fx);
}

static void test_formula_scoring_expression(void **state)
{
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v = -1;
    (void)state;
    /* actual 30, target 40: 30 / 40 * 100 = 75 */
    assert_int_equal(kpi_formulas_eval_scoring(fx.fe, find(fx.ds, "SCORE"), 30, &v, msg),
                     KPI_STATUS_OK);
    assert_near(v, 75, 1e-12);
    /* baseline 5 + actual 30 = 35 */
    assert_int_equal(kpi_formulas_eval_scoring(fx.fe, find(fx.ds, "SCOREB"), 30, &v, msg),
                     KPI_STATUS_OK);
    assert_near(v, 35, 0);
    /* A name found nowhere in a scoring expression is an error. */
    assert_int_equal(kpi_formulas_eval_scoring(fx.fe, find(fx.ds, "SCOREBAD"), 30, &v, msg),
                     KPI_STATUS_ERROR);
    assert_contains(msg, "bogus");
    /* NaN from a scoring expression is an error. */
    assert_int_equal(kpi_formulas_eval_scoring(fx.fe, find(fx.ds, "SCORENAN"), 30, &v, msg),
                     KPI_STATUS_ERROR);
    /* So is a string. */
    assert_int_equal(kpi_formulas_eval_scoring(fx.fe, find(fx.ds, "SCORESTR"), 30, &v, msg),
                     KPI_STATUS_ERROR);
    assert_contains(msg, "string");
    close_fixture(&fx);
}

static void test_formula_instruction_limit_is_error(void **state)
{
    struct fixture fx = open_fixture(NULL, 0, 100000);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    assert_int_equal(eval(&fx, "LOOP", &v, msg), KPI_STATUS_ERROR);
    assert_starts_with(msg, "LOOP");
    assert_contains(msg, "instruction limit");
    /* The next KPI runs normally. */
    assert_near(eval_ok(&fx, "OK1"), 25, 1e-12);
    close_fixture(&fx);
}

static void test_formula_memory_limit_is_error(void **state)
{
    /* 1e8 bytes wanted, 1 MiB allowed. */
    struct fixture fx = open_limited(NULL, 0, 0, 1024 * 1024);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    assert_int_equal(eval(&fx, "HOG", &v, msg), KPI_STATUS_ERROR);
    assert_starts_with(msg, "HOG");
    assert_contains(msg, "memory limit");
    assert_near(eval_ok(&fx, "OK1"), 25, 1e-12);
    close_fixture(&fx);
}

static void test_formula_left_out_library_names_are_errors(void **state)
{
    /* docs/security.md: a standard name left out on purpose is an error
     * that says so, not a missing input. */
    static const char *const ids[] = {"FORBID1", "FORBID2"};
    static const char *const names[] = {"'os'", "'print'"};
    struct fixture fx = open_fixture(NULL, 0, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(eval(&fx, ids[i], &v, msg), KPI_STATUS_ERROR);
        assert_starts_with(msg, ids[i]);
        assert_contains(msg, names[i]);
        assert_contains(msg, "not available");
    }
    close_fixture(&fx);
}

static void test_formula_plugins_see_plugins_not_inputs(void **state)
{
    const char *dirs[] = {plugins_a, plugins_b};
    struct fixture fx = open_fixture(dirs, 2, 0);
    (void)state;
    /* PEEK has an input "employed"; the plugin must not see it, nor kpi. */
    assert_near(eval_ok(&fx, "PEEK"), 1, 0);
    /* double_pick calls pick, which plugins_b shadows with 2: 2 * 2 = 4. */
    assert_near(eval_ok(&fx, "NESTED"), 4, 0);
    close_fixture(&fx);
}

/* kpi_value() is the formula's alone, reads only what the formula names as
 * a literal, and only from rows it is given: anything else is an error,
 * never a value. */
static void test_formula_kpi_value_is_safe(void **state)
{
    const char *dirs[] = {plugins_a};
    struct fixture fx = open_fixture(dirs, 1, 0);
    char msg[KPI_MESSAGE_MAX];
    double v;
    (void)state;

    assert_int_equal(eval(&fx, "KVPLUG", &v, msg), KPI_STATUS_ERROR);
    assert_non_null(strstr(msg, "'kpi_value' is not available to plugins"));
    /* No rows given (kpi_formulas_set_rows): OK1's value is not there. */
    assert_int_equal(find(fx.ds, "KVROWS")->n_deps, 1);
    assert_int_equal(eval(&fx, "KVROWS", &v, msg), KPI_STATUS_ERROR);
    assert_string_equal(msg, "KVROWS:1: kpi_value: no value of 'OK1' here");
    /* A call the scan does not see is no dependency, so no value. */
    assert_int_equal(find(fx.ds, "KVHIDDEN")->n_deps, 0);
    assert_int_equal(eval(&fx, "KVHIDDEN", &v, msg), KPI_STATUS_ERROR);
    assert_non_null(strstr(msg, "kpi_value: 'OK1' is not among the KPIs this formula names"));
    close_fixture(&fx);
}

/* ---- plugins that stop the run -------------------------------------------- */

struct bytes {
    char data[4096];
    size_t len;
};

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    struct bytes *b = ud;
    (void)L;
    if (sz > sizeof b->data - b->len)
        return 1;
    memcpy(b->data + b->len, p, sz);
    b->len += sz;
    return 0;
}

/* kpi_formulas_new and the plugin check over one plugin folder holding
 * file = bytes: both succeed, and the plugin is marked broken with a
 * message naming the file; checking it again gives KPI_EPLUGIN with the
 * file and line as fields, into *out when out is not NULL. */
static void expect_plugin_error(const char *folder, const char *file, const char *bytes, size_t len,
                                struct kpi_error *out)
{
    char dir[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    kpi_formulas *fe = NULL;
    const char *dirs[1];

    scratch_fresh_subdir(dir, tmp, folder);
    scratch_write_bytes(scratch_join(path, dir, file), bytes, len);
    dirs[0] = dir;
    assert_int_equal(kpi_dataset_load(main_dataset, &opt, &ds, &err), 0);
    if (kpi_formulas_new(ds, NULL, dirs, 1, &fe, &err) != 0)
        fail_msg("%s/%s: a broken plugin failed the load: %s", folder, file, err.message);
    assert_int_equal(kpi_formulas_check_plugins(fe, &err), 0);
    assert_int_equal(kpi_formulas_plugin_count(fe), 1);
    const char *broken = kpi_formulas_plugin_broken(fe, 0);
    if (!broken)
        fail_msg("%s/%s: not marked broken", folder, file);
    assert_contains(broken, file);
    assert_int_equal(kpi_formulas_check_plugin(fe, 0, &err), KPI_EPLUGIN);
    assert_int_equal(err.code, KPI_EPLUGIN);
    assert_contains(err.message, file);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
    if (out)
        *out = err;
}

#define PLUGIN_ERROR(folder, file, text)                                                           \
    expect_plugin_error(folder, file, text, sizeof(text) - 1, NULL)

/* A plugin's error names its file and line in the fields as well, for a
 * short path and for one Lua shows cut ("...end/of/the/path.lua"). */
#define LONG_FOLDER "a-folder-with-a-name-long-enough-that-lua-shows-the-path-cut"

static void test_formula_plugin_error_fields(void **state)
{
    static const char syntax[] = "local a = 1\nlocal b = = 2\n";
    static const char raises[] = "local x = 1\n\nerror('not today')\n";
    struct kpi_error err;
    char dir[SCRATCH_PATH_MAX];
    (void)state;

    expect_plugin_error(LONG_FOLDER, "syntax.lua", syntax, sizeof syntax - 1, &err);
    assert_true(strlen(err.file) > 60); /* Lua shows the path cut */
    scratch_join(dir, tmp, LONG_FOLDER "/syntax.lua");
    assert_string_equal(err.file, dir);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 0);
    assert_string_equal(err.kpi, "");
    assert_null(err.setting);

    expect_plugin_error("fields", "raises.lua", raises, sizeof raises - 1, &err);
    assert_contains(err.message, "loading failed");
    assert_int_equal(err.line, 3);

    expect_plugin_error("fields", "answer.lua", "return 42\n", 10, &err);
    assert_contains(err.file, "answer.lua");
    assert_int_equal(err.line, 0);
}

static void test_formula_bad_plugins_are_marked_broken(void **state)
{
    (void)state;
    PLUGIN_ERROR("notfn", "answer.lua", "return 42\n");
    PLUGIN_ERROR("nothing", "empty.lua", "local x = 1\n");
    PLUGIN_ERROR("syntax", "broken.lua", "return function(\n");
    PLUGIN_ERROR("raises", "raises.lua", "error('not today')\n");
    PLUGIN_ERROR("badname", "bad-name.lua", "return function() return 1 end\n");
}

/* Each way a plugin fails to load costs only the KPIs that call it, with
 * a message naming the plugin and its file (and line when Lua knows it). */
static void test_formula_broken_plugin_costs_only_its_kpis(void **state)
{
    static const char ind[] = "id,name,department,target,formula\n"
                              "K_SYN,a,d,1,syn(x)\n"
                              "K_TOP,a,d,1,top(x)\n"
                              "K_NUM,a,d,1,num(x)\n"
                              "K_DEEP,a,d,1,deep(x)\n"
                              "K_GOOD,a,d,1,good(x)\n"
                              "K_PLAIN,a,d,1,x * 3\n";
    static const char act[] = "indicator,input,value\n"
                              "K_SYN,x,2\nK_TOP,x,2\nK_NUM,x,2\nK_DEEP,x,2\n"
                              "K_GOOD,x,2\nK_PLAIN,x,2\n";
    char dir[SCRATCH_PATH_MAX], folder[SCRATCH_PATH_MAX], want[2 * SCRATCH_PATH_MAX];
    char deep[2200] = "return ", msg[KPI_MESSAGE_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    kpi_formulas *fe = NULL;
    struct kpi_result r;
    (void)state;

    for (int i = 0; i < 1000; i++)
        strcat(deep, "(");
    strcat(deep, "1");
    for (int i = 0; i < 1000; i++)
        strcat(deep, ")");
    scratch_fresh_subdir(folder, tmp, "costs");
    scratch_write_in(folder, "syn.lua", "return function(x)\n  return x +\nend\n");
    scratch_write_in(folder, "top.lua", "local n = 1\nerror('no config')\n");
    scratch_write_in(folder, "num.lua", "return 42\n");
    scratch_write_in(folder, "deep.lua", deep);
    scratch_write_in(folder, "good.lua", "return function(x) return x * 10 end\n");
    scratch_dataset(dir, tmp, "costs-data", ind, act);
    const char *dirs[1] = {folder};
    assert_int_equal(kpi_dataset_load(dir, &opt, &ds, &err), 0);
    assert_int_equal(kpi_formulas_new(ds, NULL, dirs, 1, &fe, &err), 0);
    assert_int_equal(kpi_formulas_check_plugins(fe, &err), 0);

    static const struct {
        const char *id, *plugin, *tail;
    } failing[] = {
        {"K_SYN", "syn", "syn.lua:3: unexpected symbol near 'end'"},
        {"K_TOP", "top", "top.lua:2: loading failed: no config"},
        {"K_NUM", "num", "num.lua: the file must return a function (it returned a number)"},
        {"K_DEEP", "deep", "deep.lua: C stack overflow"},
    };
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        const struct kpi_indicator *k = kpi_dataset_find(ds, failing[i].id);
        assert_non_null(k);
        assert_true(kpi_formulas_eval_kpi(fe, k, &r, msg));
        assert_int_equal(r.status, KPI_STATUS_ERROR);
        snprintf(want, sizeof want, "%s:1: plugin '%s' failed to load: %s/%s", failing[i].id,
                 failing[i].plugin, folder, failing[i].tail);
        if (strncmp(msg, want, strlen(want)))
            fail_msg("%s: message '%s', expected it to start '%s'", failing[i].id, msg, want);
    }
    /* The top level's own line and words are kept. */
    assert_true(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K_TOP"), &r, msg));
    assert_contains(msg, "top.lua:2: loading failed: no config");
    assert_false(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K_GOOD"), &r, msg));
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_near(r.actual, 20, 0);
    assert_false(kpi_formulas_eval_kpi(fe, kpi_dataset_find(ds, "K_PLAIN"), &r, msg));
    assert_near(r.actual, 6, 0);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

static void test_formula_binary_plugin_refused(void **state)
{
    static struct bytes b;
    lua_State *plain = luaL_newstate();
    (void)state;
    assert_non_null(plain);
    assert_int_equal(luaL_loadstring(plain, "return function() return 1 end"), LUA_OK);
    assert_int_equal(lua_dump(plain, dump_writer, &b, 0), 0);
    lua_close(plain);
    assert_memory_equal(b.data, LUA_SIGNATURE, 4);
    expect_plugin_error("binary", "compiled.lua", b.data, b.len, NULL);
}

static void test_formula_missing_plugin_folder_is_skipped(void **state)
{
    char missing[SCRATCH_PATH_MAX];
    const char *dirs[2];
    (void)state;
    scratch_join(missing, tmp, "no-such-folder");
    dirs[0] = missing;
    dirs[1] = plugins_a;
    struct fixture fx = open_fixture(dirs, 2, 0);
    assert_near(eval_ok(&fx, "CNT1"), 1, 0);
    close_fixture(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formula_values),
        cmocka_unit_test(test_formula_missing_input_names_input_kpi_and_period),
        cmocka_unit_test(test_formula_syntax_error_is_invalid),
        cmocka_unit_test(test_formula_unknown_function_and_near_input),
        cmocka_unit_test(test_formula_non_number_result_is_error),
        cmocka_unit_test(test_formula_non_finite_result_is_error),
        cmocka_unit_test(test_formula_runtime_error_message),
        cmocka_unit_test(test_formula_globals_do_not_leak_between_kpis),
        cmocka_unit_test(test_formula_kpi_value_is_safe),
        cmocka_unit_test(test_formula_plugin_state_is_fresh_per_kpi),
        cmocka_unit_test(test_formula_plugin_shadowing_order),
        cmocka_unit_test(test_formula_name_resolution_order),
        cmocka_unit_test(test_formula_input_with_default),
        cmocka_unit_test(test_formula_scoring_expression),
        cmocka_unit_test(test_formula_instruction_limit_is_error),
        cmocka_unit_test(test_formula_memory_limit_is_error),
        cmocka_unit_test(test_formula_left_out_library_names_are_errors),
        cmocka_unit_test(test_formula_plugins_see_plugins_not_inputs),
        cmocka_unit_test(test_formula_bad_plugins_are_marked_broken),
        cmocka_unit_test(test_formula_broken_plugin_costs_only_its_kpis),
        cmocka_unit_test(test_formula_plugin_error_fields),
        cmocka_unit_test(test_formula_binary_plugin_refused),
        cmocka_unit_test(test_formula_missing_plugin_folder_is_skipped),
    };
    return cmocka_run_group_tests(tests, setup_files, NULL);
}
