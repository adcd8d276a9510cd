/* Unit tests of engine/worker.c (worker.h): supervised worker processes.
 * Workers give the rows evaluation in this process gives; a worker that
 * dies costs only the KPI it was evaluating; what a worker hands back is
 * validated before the supervisor uses it (docs/security.md, "a crash of
 * the Lua VM" and "lost messages, or a worker writing into the
 * supervisor").
 *
 * worker.c is compiled into this program (white box), so the tests can
 * see which KPI a worker has in flight and write into the shared rows as
 * a corrupted worker could; the library's own worker.o is then not
 * linked. */
#include "worker.c"

#include <setjmp.h>
#include <stdarg.h>
#include <dirent.h>

#include <cmocka.h>

#include "kpieval/builder.h"
#include "scratch.h"

/* A KPI that hangs in C, where the instruction hook cannot stop it
 * (tests/sandbox/sandbox_test.py, kill-worker): a regular expression
 * that backtracks for ages. */
#define HANG_FORMULA "string.find(string.rep('a', 5000), string.rep('a*', 20) .. 'b')"

struct expected {
    const char *id;
    enum kpi_status status;
    bool has_actual;
    double actual;
    bool has_score_value;
    double score_value;
};

/* By hand, beside each KPI of build(). */
static const struct expected expected[] = {
    {"W1", KPI_STATUS_OK, true, 65, false, 0},       /* 650 / 1000 * 100 */
    {"W2", KPI_STATUS_OK, true, 7.5, false, 0},      /* 3 + 4.5 */
    {"W3", KPI_STATUS_MISSING, false, 0, false, 0},  /* z: no such input */
    {"W4", KPI_STATUS_ERROR, false, 0, false, 0},    /* 1 / 0 is inf */
    {"W5", KPI_STATUS_OK, true, 8, true, 25},        /* 8; 8 / 16 * 50 */
    {"W6", KPI_STATUS_INVALID, false, 0, false, 0},  /* target 'abc' */
    {"W7", KPI_STATUS_ERROR, false, 0, false, 0},    /* error('...') */
    {"W8", KPI_STATUS_OK, true, 12, false, 0},       /* 10 + 2 */
};
#define N_KPIS (sizeof expected / sizeof expected[0])

static kpi_dataset *build_with(const char *w8_formula)
{
    const struct kpi_indicator_spec specs[] = {
        {.id = "W1", .name = "취업률", .department = "d", .target = "65",
         .formula = "employed / eligible * 100"},
        {.id = "W2", .name = "two", .department = "d", .target = "10", .formula = "x + y"},
        {.id = "W3", .name = "three", .department = "d", .target = "1", .formula = "z"},
        {.id = "W4", .name = "four", .department = "d", .target = "1", .formula = "x / 0"},
        {.id = "W5", .name = "five", .department = "d", .target = "16", .formula = "a",
         .scoring = "actual / target * 50"},
        {.id = "W6", .name = "six", .department = "d", .target = "abc", .formula = "1"},
        {.id = "W7", .name = "seven", .department = "d", .target = "1",
         .formula = "error('bad \\1\\t\\255 news')"},
        {.id = "W8", .name = "eight", .department = "e", .target = "12", .formula = w8_formula},
    };
    static const struct kpi_actual_spec actuals[] = {
        {"W1", "employed", "650", 0}, {"W1", "eligible", "1000", 0}, {"W2", "x", "3", 0},
        {"W2", "y", "4.5", 0},        {"W4", "x", "1", 0},           {"W5", "a", "8", 0},
        {"W8", "x", "10", 0},         {"W8", "y", "2", 0},
    };
    struct kpi_error err = {0};
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (kpi_builder_add_indicator(b, &specs[i], &err))
            fail_msg("%s", err.message);
    for (size_t i = 0; i < sizeof actuals / sizeof actuals[0]; i++)
        assert_int_equal(kpi_builder_add_actual(b, &actuals[i], &err), 0);
    if (kpi_builder_finish(b, &ds, &err))
        fail_msg("%s", err.message);
    kpi_builder_free(b);
    return ds;
}

static kpi_dataset *build(void)
{
    return build_with("x + y");
}

static kpi_formulas *formulas(const kpi_dataset *ds, double seconds)
{
    struct kpi_sandbox_limits limits = {KPI_DEFAULT_INSTRUCTIONS, KPI_DEFAULT_MEMORY, seconds};
    struct kpi_error err = {0};
    kpi_formulas *fe = NULL;
    if (kpi_formulas_new(ds, &limits, NULL, 0, &fe, &err) != 0)
        fail_msg("formulas: %s", err.message);
    return fe;
}

/* The index of KPI id in ds. */
static size_t index_of(const kpi_dataset *ds, const char *id)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ks[i].id, id))
            return i;
    fail_msg("no KPI %s", id);
    return 0;
}

static const struct expected *expected_of(const char *id)
{
    for (size_t e = 0; e < N_KPIS; e++)
        if (!strcmp(expected[e].id, id))
            return &expected[e];
    fail_msg("nothing expected of %s", id);
    return NULL;
}

static void check_row(const char *id, const struct kpi_result *r)
{
    const struct expected *e = expected_of(id);
    if (r->status != e->status)
        fail_msg("%s: status %s, expected %s (%s)", id, kpi_status_name(r->status),
                 kpi_status_name(e->status), r->message ? r->message : "no message");
    assert_int_equal(r->has_actual, e->has_actual);
    if (e->has_actual)
        assert_true(r->actual == e->actual);
    assert_int_equal(r->has_score_value, e->has_score_value);
    if (e->has_score_value)
        assert_true(r->score_value == e->score_value);
    if (e->status == KPI_STATUS_OK)
        assert_null(r->message);
    else
        assert_non_null(r->message);
    if (r->message) {
        /* A formula's message names its KPI (an invalid KPI's names its
         * line); every message is valid UTF-8. */
        if (e->status != KPI_STATUS_INVALID)
            assert_contains(r->message, id);
        assert_int_equal(kpi_text_utf8_invalid_at(r->message, strlen(r->message)),
                         strlen(r->message));
    }
}

/* Rows a and b agree field by field, messages by their text. */
static void assert_same_row(const char *id, const struct kpi_result *a,
                            const struct kpi_result *b)
{
    if (a->status != b->status || a->has_actual != b->has_actual ||
        a->has_score_value != b->has_score_value || (a->has_actual && a->actual != b->actual) ||
        (a->has_score_value && a->score_value != b->score_value) ||
        !a->message != !b->message || (a->message && strcmp(a->message, b->message)))
        fail_msg("%s: workers gave %s '%s', in process %s '%s'", id, kpi_status_name(a->status),
                 a->message ? a->message : "", kpi_status_name(b->status),
                 b->message ? b->message : "");
}

/* ---- the same rows as in process ---------------------------------------- */

static void test_worker_rows_equal_in_process(void **state)
{
    kpi_dataset *ds = build();
    kpi_formulas *fe = formulas(ds, 5);
    struct kpi_result here[N_KPIS];
    char msgs[N_KPIS][KPI_MESSAGE_MAX];
    unsigned all[N_KPIS];
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    struct kpi_error err = {0};
    (void)state;

    assert_int_equal(n, N_KPIS);
    for (size_t i = 0; i < n; i++) {
        all[i] = (unsigned)i;
        memset(&here[i], 0, sizeof here[i]);
        if (kpi_formulas_eval_kpi(fe, &ks[i], &here[i], msgs[i]))
            here[i].message = msgs[i];
        if (kpi_formulas_tripped(fe))
            assert_int_equal(kpi_formulas_rebuild(fe, &err), 0);
        check_row(ks[i].id, &here[i]);
    }
    for (unsigned jobs = 1; jobs <= 3; jobs++) {
        kpi_workers *w = NULL;
        assert_int_equal(kpi_workers_new(n, jobs, &w, &err), 0);
        if (kpi_workers_run(w, ds, fe, all, n, 5, NULL, &err) != 0)
            fail_msg("jobs %u: %s", jobs, err.message);
        const struct kpi_result *rows = kpi_workers_rows(w);
        for (size_t i = 0; i < n; i++) {
            check_row(ks[i].id, &rows[i]);
            assert_same_row(ks[i].id, &rows[i], &here[i]);
        }
        kpi_workers_free(w);
    }
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

/* A call for some KPIs writes their rows alone; a second call evaluates
 * the others (the levels of a plan). */
static void test_worker_rows_of_a_subset(void **state)
{
    kpi_dataset *ds = build();
    kpi_formulas *fe = formulas(ds, 5);
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    unsigned first[] = {(unsigned)index_of(ds, "W8"), (unsigned)index_of(ds, "W1")};
    unsigned rest[N_KPIS];
    size_t n_rest = 0;
    kpi_workers *w = NULL;
    struct kpi_error err = {0};
    (void)state;

    assert_int_equal(kpi_workers_new(n, 2, &w, &err), 0);
    assert_int_equal(kpi_workers_run(w, ds, fe, first, 2, 5, NULL, &err), 0);
    const struct kpi_result *rows = kpi_workers_rows(w);
    for (size_t i = 0; i < n; i++) {
        if (i == first[0] || i == first[1]) {
            check_row(ks[i].id, &rows[i]);
        } else {
            assert_int_equal(rows[i].status, 0);
            assert_false(rows[i].has_actual);
            assert_null(rows[i].message);
            rest[n_rest++] = (unsigned)i;
        }
    }
    assert_int_equal(kpi_workers_run(w, ds, fe, rest, n_rest, 5, NULL, &err), 0);
    for (size_t i = 0; i < n; i++)
        check_row(ks[i].id, &rows[i]);
    kpi_workers_free(w);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

/* ---- a worker killed ---------------------------------------------------- */

/* Children of this process (the workers), into pids; how many. */
static size_t children(pid_t *pids, size_t max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    size_t n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) && n < max) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *close_paren = strrchr(buf, ')');
        char st;
        long ppid;
        if (close_paren && sscanf(close_paren + 1, " %c %ld", &st, &ppid) == 2 &&
            ppid == (long)getpid())
            pids[n++] = (pid_t)atol(e->d_name);
    }
    closedir(d);
    return n;
}

struct killer {
    kpi_workers *w;
    size_t victim;      /* the KPI whose worker is killed */
    int sig;
    unsigned kills;     /* done so far */
    unsigned max_kills;
    bool garble_first;  /* the first time, write a bad KPI index into the slot */
};

/* Progress callback, in the supervisor: once the victim KPI is in flight
 * on a worker, kill that worker. */
static void kill_when_in_flight(void *ctx, size_t done, size_t total)
{
    struct killer *k = ctx;
    (void)done;
    (void)total;
    if (k->kills >= k->max_kills)
        return;
    for (unsigned s = 0; s < k->w->jobs; s++) {
        if (atomic_load(&k->w->slots[s].current) != k->victim)
            continue;
        pid_t pids[16];
        size_t n = children(pids, 16);
        /* Which child is on slot s is the supervisor's; with one job,
         * every child is the worker. */
        for (size_t i = 0; i < n; i++) {
            if (k->garble_first && k->kills == 0)
                atomic_store(&k->w->slots[s].current, (size_t)UINT32_MAX + 7);
            kill(pids[i], k->sig);
        }
        if (n)
            k->kills++;
        return;
    }
}

static void run_with_killer(const char *w8_formula, int sig, unsigned max_kills, bool garble,
                            double seconds, struct kpi_result *out, char msg[KPI_MESSAGE_MAX],
                            unsigned *kills)
{
    kpi_dataset *ds = build_with(w8_formula);
    kpi_formulas *fe = formulas(ds, seconds);
    size_t n;
    unsigned all[N_KPIS];
    kpi_workers *w = NULL;
    struct kpi_error err = {0};
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    struct rlimit no_core = {0, 0};

    setrlimit(RLIMIT_CORE, &no_core);
    alarm(20); /* a watchdog that never kills ends the program, not the suite */
    for (size_t i = 0; i < n; i++)
        all[i] = (unsigned)i;
    assert_int_equal(kpi_workers_new(n, 1, &w, &err), 0);
    struct killer k = {w, index_of(ds, "W8"), sig, 0, max_kills, garble};
    struct kpi_progress progress = {&k, kill_when_in_flight};
    if (kpi_workers_run(w, ds, fe, all, n, seconds, &progress, &err) != 0)
        fail_msg("run: %s", err.message);
    alarm(0);
    *kills = k.kills;
    /* Every other KPI as without the kill. */
    const struct kpi_result *rows = kpi_workers_rows(w);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ks[i].id, "W8"))
            check_row(ks[i].id, &rows[i]);
    }
    *out = rows[index_of(ds, "W8")];
    snprintf(msg, KPI_MESSAGE_MAX, "%s", out->message ? out->message : "");
    out->message = msg;
    /* No worker is left behind. */
    pid_t pids[4];
    assert_int_equal(children(pids, 4), 0);
    kpi_workers_free(w);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

static void test_worker_killed_costs_only_its_kpi(void **state)
{
    struct kpi_result r;
    char msg[KPI_MESSAGE_MAX];
    unsigned kills;
    (void)state;

    /* W8 hangs in C (time limit 30 s, far away); its worker is killed. */
    run_with_killer(HANG_FORMULA, SIGKILL, 1, false, 30, &r, msg, &kills);
    assert_int_equal(kills, 1);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_false(r.has_actual);
    /* docs/security.md: "worker crashed: SIGSEGV", here SIGKILL. */
    assert_starts_with(msg, "W8: ");
    assert_contains(msg, "worker crashed");
    assert_contains(msg, "SIGKILL");

    /* As the VM would crash. */
    run_with_killer(HANG_FORMULA, SIGSEGV, 1, false, 30, &r, msg, &kills);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_contains(msg, "worker crashed");
    assert_contains(msg, "SIGSEGV");
}

/* A dying worker that wrote a KPI index out of range into its slot: the
 * supervisor does not take it for a KPI; the KPI is evaluated again by the
 * next worker (killed too, this time with a true slot). */
static void test_worker_garbled_slot_is_not_trusted(void **state)
{
    struct kpi_result r;
    char msg[KPI_MESSAGE_MAX];
    unsigned kills;
    (void)state;

    run_with_killer(HANG_FORMULA, SIGKILL, 2, true, 30, &r, msg, &kills);
    assert_int_equal(kills, 2);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_starts_with(msg, "W8: ");
    assert_contains(msg, "SIGKILL");
}

/* A KPI stuck in C past its CPU-time limit is killed by the watchdog:
 * an error for it alone, the others evaluated. */
static void test_worker_time_limit_kills_a_stuck_kpi(void **state)
{
    struct kpi_result r;
    char msg[KPI_MESSAGE_MAX];
    unsigned kills;
    (void)state;

    run_with_killer(HANG_FORMULA, SIGKILL, 0, false, 0.2, &r, msg, &kills);
    assert_int_equal(kills, 0);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_starts_with(msg, "W8: ");
    assert_contains(msg, "0.2 s");
    assert_not_contains(msg, "crashed");
}

/* ---- rows are validated --------------------------------------------------- */

/* A worker whose VM was corrupted may write anything into its rows: each
 * is checked before use, and what fails is an error of that KPI. */
static void test_worker_rows_are_validated(void **state)
{
    kpi_dataset *ds = build();
    kpi_formulas *fe = formulas(ds, 5);
    size_t n;
    unsigned all[N_KPIS];
    kpi_workers *w = NULL;
    struct kpi_error err = {0};
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    size_t ok = index_of(ds, "W1"), bad = index_of(ds, "W6"), err_kpi = index_of(ds, "W7");
    (void)state;

    for (size_t i = 0; i < n; i++)
        all[i] = (unsigned)i;
    assert_int_equal(kpi_workers_new(n, 1, &w, &err), 0);
    assert_int_equal(kpi_workers_run(w, ds, fe, all, n, 5, NULL, &err), 0);
    const struct kpi_result *rows = kpi_workers_rows(w);
    const struct wire_row good = w->wire[ok];

    /* Each corruption of W1's wire row, then the supervisor's check. */
    static const struct {
        const char *what;
        struct wire_row row;
    } cases[] = {
        {"status past the last", {0, 0, KPI_STATUS_COUNT, 0, 0, 1, 0}},
        {"status 200", {0, 0, 200, 0, 0, 1, 0}},
        {"flag 2", {65, 0, KPI_STATUS_OK, 2, 0, 0, 0}},
        {"score flag 9", {65, 0, KPI_STATUS_OK, 1, 9, 0, 0}},
        {"message flag 3", {65, 0, KPI_STATUS_ERROR, 0, 0, 3, 0}},
        {"NaN actual", {NAN, 0, KPI_STATUS_OK, 1, 0, 0, 0}},
        {"infinite actual", {INFINITY, 0, KPI_STATUS_OK, 1, 0, 0, 0}},
        {"infinite score", {65, -INFINITY, KPI_STATUS_OK, 1, 1, 0, 0}},
        {"ok with a message", {65, 0, KPI_STATUS_OK, 1, 0, 1, 0}},
        {"error without one", {0, 0, KPI_STATUS_ERROR, 0, 0, 0, 0}},
        {"note flag 2", {65, 0, KPI_STATUS_OK, 1, 0, 0, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        w->wire[ok] = cases[c].row;
        accept_row(w, ks, ok);
        if (rows[ok].status != KPI_STATUS_ERROR || rows[ok].has_actual ||
            rows[ok].has_score_value || !rows[ok].message)
            fail_msg("%s: accepted as %s", cases[c].what, kpi_status_name(rows[ok].status));
        assert_contains(rows[ok].message, "malformed");
    }
    /* A NaN behind a clear flag is not looked at, and not passed on. */
    w->wire[ok] = good;
    w->wire[ok].has_score_value = 0;
    w->wire[ok].score_value = NAN;
    accept_row(w, ks, ok);
    assert_int_equal(rows[ok].status, KPI_STATUS_OK);
    assert_true(rows[ok].actual == 65);
    assert_true(rows[ok].score_value == 0);

    /* A message with no terminator and bytes that are not UTF-8: cut to
     * its slot, repaired. */
    char *slot = w->messages + err_kpi * KPI_MESSAGE_MAX;
    memset(slot, 'x', KPI_MESSAGE_MAX);
    slot[0] = '\xff';
    slot[KPI_MESSAGE_MAX - 2] = '\xe3'; /* a character cut short by the end */
    accept_row(w, ks, err_kpi);
    assert_int_equal(rows[err_kpi].status, KPI_STATUS_ERROR);
    assert_true(rows[err_kpi].message >= slot &&
                rows[err_kpi].message < slot + KPI_MESSAGE_MAX);
    size_t len = strlen(rows[err_kpi].message);
    assert_true(len < KPI_MESSAGE_MAX);
    assert_int_equal(kpi_text_utf8_invalid_at(rows[err_kpi].message, len), len);

    /* An invalid KPI's message is the dataset's own, whatever the worker
     * wrote in its slot. */
    slot = w->messages + bad * KPI_MESSAGE_MAX;
    snprintf(slot, KPI_MESSAGE_MAX, "forged");
    accept_row(w, ks, bad);
    assert_int_equal(rows[bad].status, KPI_STATUS_INVALID);
    assert_ptr_equal(rows[bad].message, ks[bad].invalid);
    assert_string_not_equal(rows[bad].message, "forged");

    kpi_workers_free(w);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

/* Every KPI's message is kept: many failing KPIs on one worker, each in
 * its own slot (docs/security.md, "lost messages"). */
static void test_worker_keeps_every_message(void **state)
{
    enum { MANY = 300 };
    struct kpi_error err = {0};
    kpi_builder *b = NULL;
    kpi_dataset *ds = NULL;
    char id[MANY][16], formula[MANY][600];
    unsigned all[MANY];
    kpi_workers *w = NULL;
    size_t n;
    (void)state;

    assert_int_equal(kpi_builder_new(NULL, &b, &err), 0);
    for (int i = 0; i < MANY; i++) {
        /* A long message of its own: "E<i>: " and 500 bytes. */
        snprintf(id[i], sizeof id[i], "E%03d", i);
        snprintf(formula[i], sizeof formula[i], "error(string.rep('%c', 500) .. '%d')",
                 'a' + i % 26, i);
        struct kpi_indicator_spec spec = {.id = id[i], .name = "n", .department = "d",
                                          .target = "1", .formula = formula[i]};
        assert_int_equal(kpi_builder_add_indicator(b, &spec, &err), 0);
    }
    assert_int_equal(kpi_builder_finish(b, &ds, &err), 0);
    kpi_builder_free(b);
    kpi_formulas *fe = formulas(ds, 5);
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    for (size_t i = 0; i < n; i++)
        all[i] = (unsigned)i;
    assert_int_equal(kpi_workers_new(n, 2, &w, &err), 0);
    assert_int_equal(kpi_workers_run(w, ds, fe, all, n, 5, NULL, &err), 0);
    const struct kpi_result *rows = kpi_workers_rows(w);
    for (size_t i = 0; i < n; i++) {
        char run[8];
        int k = atoi(ks[i].id + 1);
        assert_int_equal(rows[i].status, KPI_STATUS_ERROR);
        assert_non_null(rows[i].message);
        assert_starts_with(rows[i].message, ks[i].id);
        /* Its own letter, not another KPI's. */
        memset(run, 'a' + k % 26, sizeof run - 1);
        run[sizeof run - 1] = '\0';
        assert_contains(rows[i].message, run);
        assert_true(strlen(rows[i].message) < KPI_MESSAGE_MAX);
    }
    kpi_workers_free(w);
    kpi_formulas_free(fe);
    kpi_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_rows_equal_in_process),
        cmocka_unit_test(test_worker_rows_of_a_subset),
        cmocka_unit_test(test_worker_killed_costs_only_its_kpi),
        cmocka_unit_test(test_worker_garbled_slot_is_not_trusted),
        cmocka_unit_test(test_worker_time_limit_kills_a_stuck_kpi),
        cmocka_unit_test(test_worker_rows_are_validated),
        cmocka_unit_test(test_worker_keeps_every_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
