/* Unit tests of grades and the department roll-up (docs/formats.md,
 * "Roll-up and grades"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/rollup.h"
#include "kpieval/score.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "rollup");
    return 0;
}

/* ---- grades ------------------------------------------------------------- */

/* Bands from spec into a fresh g: the policy is then the default, zero
 * (its value 0), as in a zeroed command line. */
static void parse_ok(const char *spec, struct kpi_grades *g)
{
    struct kpi_error err = {0};
    memset(g, 0, sizeof *g);
    if (kpi_grades_parse(spec, g, &err) != 0)
        fail_msg("'%s' refused: %s", spec, err.message);
}

static void test_rollup_grades_parse_default(void **state)
{
    struct kpi_grades g;
    (void)state;
    parse_ok(KPI_DEFAULT_GRADES, &g);
    assert_int_equal(g.n, 5);
    static const char *const names[] = {"S", "A", "B", "C", "D"};
    static const double mins[] = {100, 90, 80, 70, 0};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(g.bands[i].name, names[i]);
        assert_near(g.bands[i].min, mins[i], 0);
    }
}

static void test_rollup_grades_sorted_highest_first(void **state)
{
    struct kpi_grades g;
    (void)state;
    parse_ok("D:0,S:100,B:80.5,Excellent:95", &g);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.bands[0].name, "S");
    assert_string_equal(g.bands[1].name, "Excellent");
    assert_string_equal(g.bands[2].name, "B");
    assert_near(g.bands[2].min, 80.5, 0);
    assert_string_equal(g.bands[3].name, "D");
    /* A single band, a negative minimum, a 15-character name. */
    parse_ok("pass:-10", &g);
    assert_int_equal(g.n, 1);
    assert_near(g.bands[0].min, -10, 0);
    parse_ok("ABCDEFGHIJKLMNO:1", &g);
    assert_string_equal(g.bands[0].name, "ABCDEFGHIJKLMNO");
    /* 16 bands is the most. */
    parse_ok("a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,m:13,n:14,o:15,p:16", &g);
    assert_int_equal(g.n, 16);
    assert_string_equal(g.bands[0].name, "p");
    assert_string_equal(g.bands[15].name, "a");
}

static void test_rollup_grades_parse_errors(void **state)
{
    static const char *const bad[] = {
        "",                   /* empty */
        "S",                  /* no ':' */
        ":90",                /* empty name */
        " A:1",               /* space before the name */
        "A :1",               /* space after it */
        "A\x01:1",            /* a control character */
        "\xea\xb0:1",         /* not UTF-8: a cut 가 */
        "0123456789012345678901234567890123456789012345678901234567890123:1", /* 64 bytes */
        "A:",                 /* no minimum */
        "A:x",                /* minimum not a number */
        "A:nan",              /* not finite */
        "A:1e400",            /* out of range */
        "A:1,A:2",            /* the same grade twice */
        "A:1,",               /* trailing ',' */
        "A:1,,B:2",           /* empty band */
        "A:3,000",            /* ',' splits it: "000" is no band */
        "a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,m:13,n:14,o:15,p:16,q:17",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct kpi_grades g;
        struct kpi_error err = {0};
        int rc = kpi_grades_parse(bad[i], &g, &err);
        if (rc != KPI_EUSAGE)
            fail_msg("'%s': rc %d, expected KPI_EUSAGE", bad[i], rc);
        assert_int_equal(err.code, KPI_EUSAGE);
        assert_true(err.message[0] != '\0');
        /* The setting is a field; the message names no option. */
        if (!err.setting || strcmp(err.setting, KPI_SETTING_GRADES))
            fail_msg("'%s': setting %s, expected \"grades\"", bad[i],
                     err.setting ? err.setting : "NULL");
        if (strstr(err.message, "--"))
            fail_msg("'%s': the message names an option: %s", bad[i], err.message);
        assert_string_equal(err.file, "");
        assert_int_equal(err.line, 0);
    }
}

/* Names are any UTF-8 text: Korean grades, spaces inside. */
static void test_rollup_grades_in_korean(void **state)
{
    struct kpi_grades g;
    (void)state;
    parse_ok("매우우수:100,우수:90,보통:80,미흡:70,매우 미흡:0", &g);
    assert_int_equal(g.n, 5);
    assert_string_equal(kpi_grade_for(&g, 100), "매우우수");
    assert_string_equal(kpi_grade_for(&g, 95), "우수");
    assert_string_equal(kpi_grade_for(&g, 69.99), "매우 미흡");
    /* 63 bytes is the longest name: 21 syllables */
    parse_ok("가나다라마바사아자차카타파하가나다라마바사:1", &g);
    assert_string_equal(g.bands[0].name, "가나다라마바사아자차카타파하가나다라마바사");
}

static void test_rollup_grade_for_boundaries(void **state)
{
    struct kpi_grades g;
    (void)state;
    parse_ok(KPI_DEFAULT_GRADES, &g);
    /* A band is reached at its minimum exactly. */
    assert_string_equal(kpi_grade_for(&g, 120), "S");
    assert_string_equal(kpi_grade_for(&g, 100), "S");
    assert_string_equal(kpi_grade_for(&g, 99.999), "A");
    assert_string_equal(kpi_grade_for(&g, 90), "A");
    assert_string_equal(kpi_grade_for(&g, 89.99), "B");
    assert_string_equal(kpi_grade_for(&g, 80), "B");
    assert_string_equal(kpi_grade_for(&g, 70), "C");
    assert_string_equal(kpi_grade_for(&g, 69.9), "D");
    assert_string_equal(kpi_grade_for(&g, 0), "D");
    /* Below every band: no grade. */
    assert_string_equal(kpi_grade_for(&g, -0.01), "");
    /* Bands given out of order are still used highest first. */
    parse_ok("low:0,high:50", &g);
    assert_string_equal(kpi_grade_for(&g, 60), "high");
    assert_string_equal(kpi_grade_for(&g, 49), "low");
}

/* ---- roll-up ------------------------------------------------------------ */

/* Departments (tree order): empty, empty/x, hq, hq/a, hq/b, hq/b/t, other.
 *   K1 hq/a    w1 ok   capped 100
 *   K2 hq/a    w1 ok   capped 50
 *   K3 hq/b    w2 ok   capped 80
 *   K4 hq/b/t  w1 ok   achievement 130, capped 110 (the capped value counts)
 *   K5 hq/b/t  w3 missing
 *   K6 other   w0 ok   capped 90
 *   K7 empty/x w1 error
 *   K8 hq/a    w1 invalid */
static const char rollup_indicators[] = "id,name,department,target,formula,weight\n"
                                        "K1,a,hq/a,1,x,1\n"
                                        "K2,a,hq/a,1,x,1\n"
                                        "K3,a,hq/b,1,x,2\n"
                                        "K4,a,hq/b/t,1,x,1\n"
                                        "K5,a,hq/b/t,1,x,3\n"
                                        "K6,a,other,1,x,0\n"
                                        "K7,a,empty/x,1,x,1\n"
                                        "K8,a,hq/a,1,x,1\n";

enum { D_EMPTY, D_EMPTY_X, D_HQ, D_HQ_A, D_HQ_B, D_HQ_B_T, D_OTHER, N_DEPS };

/* Rows follow the dataset's report order (tree order, then id), so each
 * row is filled from the table above by its KPI's number. */
static void make_rows(const kpi_dataset *ds, struct kpi_result rows[8])
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, 8);
    memset(rows, 0, 8 * sizeof rows[0]);
    static const enum kpi_status st[8] = {KPI_STATUS_OK,    KPI_STATUS_OK,      KPI_STATUS_OK,
                                          KPI_STATUS_OK,    KPI_STATUS_MISSING, KPI_STATUS_OK,
                                          KPI_STATUS_ERROR, KPI_STATUS_INVALID};
    static const double achievement[8] = {100, 50, 80, 130, 0, 90, 0, 0};
    static const double capped[8] = {100, 50, 80, 110, 0, 90, 0, 0};
    for (size_t i = 0; i < 8; i++) {
        size_t k = (size_t)(ks[i].id[1] - '1'); /* "K1" -> 0 */
        rows[i].status = st[k];
        rows[i].achievement = achievement[k];
        rows[i].achievement_capped = capped[k];
    }
}

/* The dataset of rollup_indicators in folder `name`, with its rows. */
static kpi_dataset *load_tree(const char *name, struct kpi_result rows[8])
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;

    scratch_dataset(dir, tmp, name, rollup_indicators, "indicator,input,value\nK1,x,1\n");
    if (kpi_dataset_load(dir, &opt, &ds, &err) != 0)
        fail_msg("load: %s", err.message);
    make_rows(ds, rows);
    return ds;
}

static void test_rollup_weighted_mean_over_kpis(void **state)
{
    struct kpi_grades g;
    struct kpi_result rows[8];
    struct kpi_department_summary out[N_DEPS], overall;
    size_t n;
    (void)state;

    kpi_dataset *ds = load_tree("tree", rows);
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n);
    assert_int_equal(n, N_DEPS);
    assert_string_equal(deps[D_EMPTY_X].path, "empty/x");
    assert_string_equal(deps[D_HQ_B_T].path, "hq/b/t");
    assert_string_equal(deps[D_OTHER].path, "other");
    parse_ok(KPI_DEFAULT_GRADES, &g);
    g.unscored = KPI_UNSCORED_SKIP; /* this test: unscored KPIs left out */
    memset(out, 0xFF, sizeof out); /* everything must be filled in */
    kpi_rollup(ds, rows, &g, out, &overall);

    /* hq/a: K1, K2 ok, K8 invalid: (1 x 100 + 1 x 50) / 2 = 75 -> C */
    assert_int_equal(out[D_HQ_A].kpis, 3);
    assert_int_equal(out[D_HQ_A].count[KPI_STATUS_OK], 2);
    assert_int_equal(out[D_HQ_A].count[KPI_STATUS_INVALID], 1);
    assert_true(out[D_HQ_A].has_achievement);
    assert_near(out[D_HQ_A].weight, 2, 0);
    assert_near(out[D_HQ_A].weighted, 150, 1e-9);
    assert_near(out[D_HQ_A].achievement, 75, 1e-9);
    assert_string_equal(out[D_HQ_A].grade, "C");

    /* hq/b/t: K4 ok (capped 110), K5 missing: 110 / 1 = 110 -> S */
    assert_int_equal(out[D_HQ_B_T].kpis, 2);
    assert_int_equal(out[D_HQ_B_T].count[KPI_STATUS_OK], 1);
    assert_int_equal(out[D_HQ_B_T].count[KPI_STATUS_MISSING], 1);
    assert_near(out[D_HQ_B_T].achievement, 110, 1e-9);
    assert_string_equal(out[D_HQ_B_T].grade, "S");

    /* hq/b: K3 (2 x 80 = 160) and K4 (1 x 110 = 110) = 270 over weight 3
     * = 90 -> A. (The mean of the children's means would be 95.) */
    assert_int_equal(out[D_HQ_B].kpis, 3);
    assert_near(out[D_HQ_B].weight, 3, 0);
    assert_near(out[D_HQ_B].achievement, 90, 1e-9);
    assert_string_equal(out[D_HQ_B].grade, "A");

    /* hq: 100 + 50 + 160 + 110 = 420 over weight 1 + 1 + 2 + 1 = 5 = 84
     * -> B. (The mean of hq/a's 75 and hq/b's 90 would be 82.5.) */
    assert_int_equal(out[D_HQ].kpis, 6);
    assert_int_equal(out[D_HQ].count[KPI_STATUS_OK], 4);
    assert_int_equal(out[D_HQ].count[KPI_STATUS_MISSING], 1);
    assert_int_equal(out[D_HQ].count[KPI_STATUS_INVALID], 1);
    assert_near(out[D_HQ].achievement, 84, 1e-9);
    assert_string_equal(out[D_HQ].grade, "B");

    /* other: the only ok KPI has weight 0: no achievement, no grade. */
    assert_int_equal(out[D_OTHER].kpis, 1);
    assert_int_equal(out[D_OTHER].count[KPI_STATUS_OK], 1);
    assert_false(out[D_OTHER].has_achievement);
    assert_string_equal(out[D_OTHER].grade, "");

    /* empty/x and empty: no ok KPI at all. */
    assert_int_equal(out[D_EMPTY_X].count[KPI_STATUS_ERROR], 1);
    assert_false(out[D_EMPTY_X].has_achievement);
    assert_string_equal(out[D_EMPTY_X].grade, "");
    assert_int_equal(out[D_EMPTY].kpis, 1);
    assert_false(out[D_EMPTY].has_achievement);
    assert_string_equal(out[D_EMPTY].grade, "");

    /* Overall: every KPI once. ok: K1, K2, K3, K4, K6, weights
     * 1 + 1 + 2 + 1 + 0 = 5, weighted 100 + 50 + 160 + 110 + 0 = 420:
     * 420 / 5 = 84. */
    assert_int_equal(overall.kpis, 8);
    assert_int_equal(overall.count[KPI_STATUS_OK], 5);
    assert_int_equal(overall.count[KPI_STATUS_MISSING], 1);
    assert_int_equal(overall.count[KPI_STATUS_ERROR], 1);
    assert_int_equal(overall.count[KPI_STATUS_INVALID], 1);
    assert_near(overall.weight, 5, 0);
    assert_near(overall.achievement, 84, 1e-9);
    assert_string_equal(overall.grade, "B");
    kpi_dataset_free(ds);
}

/* The default policy: an unscored KPI counts at its weight with
 * achievement 0, so not reporting never raises a grade. The same rows as
 * above, worked out again:
 *   hq/a    (100 + 50 + 0 x K8) / 3 = 50 -> D, coverage 2/3
 *   hq/b/t  110 / (1 + 3 x K5) = 27.5 -> D, coverage 1/4
 *   hq/b    (160 + 110) / (2 + 1 + 3) = 45 -> D, coverage 3/6
 *   hq      420 / (1 + 1 + 1 + 2 + 1 + 3) = 46.67 -> D, coverage 5/9
 *   other   only K6 at weight 0: no figure, no coverage
 *   empty/x K7 error at weight 1: 0 / 1 = 0 -> D, coverage 0
 *   overall 420 / (5 + K5 3 + K7 1 + K8 1) = 42 -> D, coverage 5/10 */
static void test_rollup_unscored_count_as_zero(void **state)
{
    struct kpi_grades g;
    struct kpi_result rows[8];
    struct kpi_department_summary out[N_DEPS], overall;
    (void)state;

    kpi_dataset *ds = load_tree("zero", rows);
    parse_ok(KPI_DEFAULT_GRADES, &g);
    assert_int_equal(g.unscored, KPI_UNSCORED_ZERO);
    memset(out, 0xFF, sizeof out);
    kpi_rollup(ds, rows, &g, out, &overall);

    assert_near(out[D_HQ_A].achievement, 50, 1e-9);
    assert_near(out[D_HQ_A].coverage, 2.0 / 3, 1e-12);
    assert_near(out[D_HQ_A].unscored_weight, 1, 0);
    assert_string_equal(out[D_HQ_A].grade, "D");
    assert_near(out[D_HQ_B_T].achievement, 27.5, 1e-9);
    assert_near(out[D_HQ_B_T].coverage, 0.25, 1e-12);
    assert_near(out[D_HQ_B].achievement, 45, 1e-9);
    assert_near(out[D_HQ_B].coverage, 0.5, 1e-12);
    assert_near(out[D_HQ].achievement, 420.0 / 9, 1e-9);
    assert_near(out[D_HQ].coverage, 5.0 / 9, 1e-12);
    assert_false(out[D_OTHER].has_achievement);
    assert_false(out[D_OTHER].has_coverage);
    assert_string_equal(out[D_OTHER].grade, "");
    assert_true(out[D_EMPTY_X].has_achievement);
    assert_near(out[D_EMPTY_X].achievement, 0, 0);
    assert_true(out[D_EMPTY_X].has_coverage);
    assert_near(out[D_EMPTY_X].coverage, 0, 0);
    assert_string_equal(out[D_EMPTY_X].grade, "D");
    assert_near(out[D_EMPTY].achievement, 0, 0);
    assert_near(overall.achievement, 42, 1e-9);
    assert_near(overall.coverage, 0.5, 1e-12);
    assert_near(overall.unscored_weight, 5, 0);
    assert_string_equal(overall.grade, "D");

    /* Under skip the coverage is the same; only the figure changes. */
    g.unscored = KPI_UNSCORED_SKIP;
    kpi_rollup(ds, rows, &g, out, &overall);
    assert_near(out[D_HQ_A].coverage, 2.0 / 3, 1e-12);
    assert_near(out[D_HQ_A].achievement, 75, 1e-9);
    assert_near(overall.achievement, 84, 1e-9);
    kpi_dataset_free(ds);
}

/* A KPI whose weight cannot be read counts at the default weight 1 when
 * unscored; a KPI of weight 0 counts for nothing either way. */
static void test_rollup_unscored_weight_of_a_bad_cell(void **state)
{
    static const struct kpi_bad_cells fine = {NULL, NULL, NULL, NULL};
    static const struct kpi_bad_cells bad_weight = {NULL, NULL, "heavy", NULL};
    struct kpi_indicator k = {.bad = &fine, .weight = 2.5};
    (void)state;
    assert_near(kpi_rollup_unscored_weight(&k), 2.5, 0);
    k.weight = 0;
    assert_near(kpi_rollup_unscored_weight(&k), 0, 0);
    k.weight = -3; /* out of range: the KPI is invalid */
    assert_near(kpi_rollup_unscored_weight(&k), 1, 0);
    k.weight = 2.5;
    k.bad = &bad_weight;
    assert_near(kpi_rollup_unscored_weight(&k), 1, 0);
}

/* A department is graded on its figure as printed: 89.996 shows as 90.00
 * and reaches A (from 90); 89.994 shows as 89.99 and stays B. */
static void test_rollup_graded_as_printed(void **state)
{
    struct kpi_grades g;
    struct kpi_department_summary s = {.kpis = 1, .count = {[KPI_STATUS_OK] = 1}, .weight = 1};
    (void)state;
    parse_ok(KPI_DEFAULT_GRADES, &g);
    s.weighted = 89.996;
    kpi_rollup_finish(&s, &g);
    assert_true(s.achievement == 89.996); /* the figure itself is not rounded */
    assert_string_equal(s.grade, "A");
    s.weighted = 89.994;
    kpi_rollup_finish(&s, &g);
    assert_string_equal(s.grade, "B");
}

/* The unscored policy's names. */
static void test_rollup_unscored_parse(void **state)
{
    enum kpi_unscored p = KPI_UNSCORED_ZERO;
    struct kpi_error err = {0};
    (void)state;
    assert_int_equal(kpi_unscored_parse("skip", &p, &err), 0);
    assert_int_equal(p, KPI_UNSCORED_SKIP);
    assert_string_equal(kpi_unscored_name(p), "skip");
    assert_int_equal(kpi_unscored_parse("zero", &p, &err), 0);
    assert_int_equal(p, KPI_UNSCORED_ZERO);
    assert_int_equal(kpi_unscored_parse("ignore", &p, &err), KPI_EUSAGE);
    assert_string_equal(err.setting, KPI_SETTING_UNSCORED);
    assert_int_equal(p, KPI_UNSCORED_ZERO);
}

static void test_rollup_no_ok_kpi_means_no_achievement(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    struct kpi_grades g;
    struct kpi_result rows[2];
    struct kpi_department_summary out[1], overall;
    (void)state;
    scratch_dataset(dir, tmp, "noneok",
                    "id,name,department,target,formula\nK1,a,d,1,x\nK2,b,d,1,x\n",
                    "indicator,input,value\nK1,x,1\n");
    if (kpi_dataset_load(dir, &opt, &ds, &err) != 0)
        fail_msg("load: %s", err.message);
    parse_ok(KPI_DEFAULT_GRADES, &g);
    memset(rows, 0, sizeof rows);
    rows[0].status = KPI_STATUS_MISSING;
    rows[1].status = KPI_STATUS_ERROR;
    rows[1].achievement_capped = 100; /* ignored: not ok */
    g.unscored = KPI_UNSCORED_SKIP;
    kpi_rollup(ds, rows, &g, out, &overall);
    assert_int_equal(out[0].kpis, 2);
    assert_false(out[0].has_achievement);
    assert_string_equal(out[0].grade, "");
    assert_false(overall.has_achievement);
    assert_string_equal(overall.grade, "");
    /* By default the silence scores 0, the lowest grade. */
    g.unscored = KPI_UNSCORED_ZERO;
    kpi_rollup(ds, rows, &g, out, &overall);
    assert_true(out[0].has_achievement);
    assert_near(out[0].achievement, 0, 0);
    assert_string_equal(out[0].grade, "D");
    kpi_dataset_free(ds);
}

/* Red-team issue 9, finding 12: a scoring expression of -1e308 at weight
 * 2 made weight x capped -inf, and d and the overall figure went empty
 * with the KPI still ok. Scored through kpi_score(), it is an error now:
 *   K1 d w2 expression -1e308 -> error, not counted
 *   K2 d w1 ratio 50 / 100 x 100 = 50
 * -> d = (50 + 0 x 2) / 3 = 16.67 (the error counts as 0) -> D; overall the same */
static void test_rollup_out_of_range_score_does_not_blank_the_tree(void **state)
{
    char dir[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    struct kpi_grades g;
    struct kpi_result rows[2];
    struct kpi_department_summary out[1], overall;
    size_t n;
    (void)state;
    scratch_dataset(dir, tmp, "overflow",
                    "id,name,department,target,formula,weight,scoring\n"
                    "K1,a,d,100,x,2,-1e308\n"
                    "K2,b,d,100,x,1,\n",
                    "indicator,input,value\nK1,x,1\n");
    if (kpi_dataset_load(dir, &opt, &ds, &err) != 0)
        fail_msg("load: %s", err.message);
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ks[0].id, "K1");
    parse_ok(KPI_DEFAULT_GRADES, &g);
    memset(rows, 0, sizeof rows);
    for (size_t i = 0; i < 2; i++) {
        rows[i].status = KPI_STATUS_OK;
        rows[i].has_actual = true;
        rows[i].actual = 50;
    }
    rows[0].has_score_value = true;
    rows[0].score_value = -1e308; /* what the expression returned */
    for (size_t i = 0; i < 2; i++)
        kpi_score(&ks[i], &rows[i], KPI_DEFAULT_CAP);
    assert_int_equal(rows[0].status, KPI_STATUS_ERROR);
    assert_int_equal(rows[1].status, KPI_STATUS_OK);
    kpi_rollup(ds, rows, &g, out, &overall);
    assert_int_equal(out[0].count[KPI_STATUS_OK], 1);
    assert_int_equal(out[0].count[KPI_STATUS_ERROR], 1);
    assert_true(out[0].has_achievement);
    assert_near(out[0].achievement, 50.0 / 3, 1e-12);
    assert_string_equal(out[0].grade, "D");
    assert_true(overall.has_achievement);
    assert_near(overall.achievement, 50.0 / 3, 1e-12);
    kpi_dataset_free(ds);
}

/* At the bounds (weight 1e9, achievement +-1e9) the sums stay exact:
 *   lo: 2000 KPIs, w 1e9, capped -1e9: -2e21 / 2e12 = -1e9, no grade
 *       (below D's 0)
 *   hi: 2000 KPIs, w 1e9, achievement 1e9, cap 1e308 so capped 1e9:
 *       2e21 / 2e12 = 1e9 -> S
 *   overall: (-2e21 + 2e21) / 4e12 = 0 -> D
 * (k x 1e18 is exact in doubles for k < 2363: 1e18 = 2^18 x 5^18.) */
static void test_rollup_sums_at_the_bounds(void **state)
{
    enum { PER = 2000, N = 2 * PER };
    char dir[SCRATCH_PATH_MAX];
    struct kpi_load_options opt = {NULL};
    struct kpi_error err = {0};
    kpi_dataset *ds = NULL;
    struct kpi_grades g;
    struct kpi_department_summary out[2], overall;
    size_t n, o = 0, cap = N * 64 + 128;
    char *indicators = malloc(cap);
    struct kpi_result *rows = calloc(N, sizeof *rows);
    (void)state;
    assert_non_null(indicators);
    assert_non_null(rows);
    o += (size_t)snprintf(indicators + o, cap - o,
                          "id,name,department,target,formula,weight,scoring\n");
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(indicators + o, cap - o, "K%05d,a,%s,1,x,1e9,actual\n", i,
                              i < PER ? "hi" : "lo");
    scratch_dataset(dir, tmp, "bounds", indicators, "indicator,input,value\nK00000,x,1\n");
    free(indicators);
    if (kpi_dataset_load(dir, &opt, &ds, &err) != 0)
        fail_msg("load: %s", err.message);
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++) {
        bool hi = !strcmp(ks[i].department, "hi");
        rows[i].status = KPI_STATUS_OK;
        rows[i].has_actual = true;
        rows[i].has_score_value = true;
        rows[i].score_value = hi ? KPI_ACHIEVEMENT_MAX : -KPI_ACHIEVEMENT_MAX;
        kpi_score(&ks[i], &rows[i], 1e308);
        assert_int_equal(rows[i].status, KPI_STATUS_OK);
    }
    parse_ok(KPI_DEFAULT_GRADES, &g);
    kpi_rollup(ds, rows, &g, out, &overall);
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n);
    assert_int_equal(n, 2);
    assert_string_equal(deps[0].path, "hi");
    assert_true(out[0].has_achievement);
    assert_near(out[0].weighted, 2e21, 0);
    assert_near(out[0].achievement, 1e9, 0);
    assert_string_equal(out[0].grade, "S");
    assert_true(out[1].has_achievement);
    assert_near(out[1].achievement, -1e9, 0);
    assert_string_equal(out[1].grade, "");
    assert_true(overall.has_achievement);
    assert_near(overall.weight, 4e12, 0);
    assert_near(overall.achievement, 0, 0);
    assert_string_equal(overall.grade, "D");
    free(rows);
    kpi_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_grades_parse_default),
        cmocka_unit_test(test_rollup_grades_sorted_highest_first),
        cmocka_unit_test(test_rollup_grades_parse_errors),
        cmocka_unit_test(test_rollup_grade_for_boundaries),
        cmocka_unit_test(test_rollup_weighted_mean_over_kpis),
        cmocka_unit_test(test_rollup_grades_in_korean),
        cmocka_unit_test(test_rollup_unscored_count_as_zero),
        cmocka_unit_test(test_rollup_unscored_weight_of_a_bad_cell),
        cmocka_unit_test(test_rollup_unscored_parse),
        cmocka_unit_test(test_rollup_graded_as_printed),
        cmocka_unit_test(test_rollup_no_ok_kpi_means_no_achievement),
        cmocka_unit_test(test_rollup_out_of_range_score_does_not_blank_the_tree),
        cmocka_unit_test(test_rollup_sums_at_the_bounds),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
