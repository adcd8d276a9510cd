/* Unit tests of scoring: every rule and edge case of docs/formats.md,
 * "Scoring: achievement in percent". Expected values are worked by hand
 * in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/score.h"
#include "scratch.h"

#define INC         KPI_DIRECTION_INCREASE
#define DEC         KPI_DIRECTION_DECREASE
#define RATIO       KPI_SCORING_RATIO
#define LINEAR      KPI_SCORING_LINEAR
#define BASELINE    KPI_SCORING_BASELINE
#define BINARY      KPI_SCORING_BINARY
#define NO_BASELINE false, 0

struct score_case {
    const char *why;
    enum kpi_direction direction;
    enum kpi_scoring scoring;
    bool has_baseline;
    double baseline;
    double target;
    double actual;
    double cap;
    enum kpi_status status; /* after scoring */
    double achievement;     /* when ok */
    double capped;          /* when ok */
};

static void check_cases(const struct score_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct score_case *c = &cases[i];
        struct kpi_indicator k;
        struct kpi_result r;
        memset(&k, 0, sizeof k);
        memset(&r, 0, sizeof r);
        k.id = "K";
        k.direction = c->direction;
        k.scoring = c->scoring;
        k.has_baseline = c->has_baseline;
        k.baseline = c->baseline;
        k.target = c->target;
        k.weight = 1;
        r.status = KPI_STATUS_OK;
        r.has_actual = true;
        r.actual = c->actual;
        kpi_score(&k, &r, c->cap);
        if (r.status != c->status)
            fail_msg("%s: status %d, expected %d (%s)", c->why, (int)r.status, (int)c->status,
                     r.message ? r.message : "no message");
        if (c->status == KPI_STATUS_OK) {
            if (!(fabs(r.achievement - c->achievement) <= 1e-9))
                fail_msg("%s: achievement %.17g, expected %.17g", c->why, r.achievement,
                         c->achievement);
            if (!(fabs(r.achievement_capped - c->capped) <= 1e-9))
                fail_msg("%s: capped %.17g, expected %.17g", c->why, r.achievement_capped,
                         c->capped);
            if (r.message)
                fail_msg("%s: ok with a message: %s", c->why, r.message);
        } else if (!r.message || !*r.message) {
            fail_msg("%s: %d without a message", c->why, (int)r.status);
        }
    }
}

#define OK           KPI_STATUS_OK
#define ERROR        KPI_STATUS_ERROR
#define CASES(array) check_cases(array, sizeof array / sizeof array[0])

static void test_score_ratio_increase(void **state)
{
    static const struct score_case cases[] = {
        /* 30 / 40 x 100 = 75 */
        {"below target", INC, RATIO, NO_BASELINE, 40, 30, 120, OK, 75, 75},
        /* 40 / 40 x 100 = 100 */
        {"on target", INC, RATIO, NO_BASELINE, 40, 40, 120, OK, 100, 100},
        /* 50 / 40 x 100 = 125, capped at 120 */
        {"above the cap", INC, RATIO, NO_BASELINE, 40, 50, 120, OK, 125, 120},
        /* 50 / 40 x 100 = 125 < cap 150: not capped */
        {"higher cap", INC, RATIO, NO_BASELINE, 40, 50, 150, OK, 125, 125},
        /* -10 / 40 x 100 = -25, floored at 0 */
        {"negative actual floored", INC, RATIO, NO_BASELINE, 40, -10, 120, OK, 0, 0},
        /* 0 / 40 x 100 = 0 */
        {"zero actual", INC, RATIO, NO_BASELINE, 40, 0, 120, OK, 0, 0},
    };
    (void)state;
    CASES(cases);
}

static void test_score_ratio_decrease(void **state)
{
    static const struct score_case cases[] = {
        /* 10 / 20 x 100 = 50 */
        {"worse than target", DEC, RATIO, NO_BASELINE, 10, 20, 120, OK, 50, 50},
        /* 10 / 8 x 100 = 125, capped at 120 */
        {"better than target", DEC, RATIO, NO_BASELINE, 10, 8, 120, OK, 125, 120},
        /* 10 / 10 x 100 = 100 */
        {"on target", DEC, RATIO, NO_BASELINE, 10, 10, 120, OK, 100, 100},
        /* 12 / 16 x 100 = 75 */
        {"three quarters", DEC, RATIO, NO_BASELINE, 12, 16, 120, OK, 75, 75},
    };
    (void)state;
    CASES(cases);
}

static void test_score_ratio_decrease_zero_actual_gets_cap(void **state)
{
    static const struct score_case cases[] = {
        /* t / 0 is unbounded: the best score, i.e. the cap. */
        {"cap 120", DEC, RATIO, NO_BASELINE, 10, 0, 120, OK, 120, 120},
        {"cap 150", DEC, RATIO, NO_BASELINE, 10, 0, 150, OK, 150, 150},
        {"cap 100", DEC, RATIO, NO_BASELINE, 10, 0, 100, OK, 100, 100},
    };
    (void)state;
    CASES(cases);
}

static void test_score_ratio_and_linear_zero_target(void **state)
{
    static const struct score_case cases[] = {
        /* t = 0: 100 if met, else 0. */
        {"ratio inc met (0 >= 0)", INC, RATIO, NO_BASELINE, 0, 0, 120, OK, 100, 100},
        {"ratio inc met (5 >= 0)", INC, RATIO, NO_BASELINE, 0, 5, 120, OK, 100, 100},
        {"ratio inc not met (-1 < 0)", INC, RATIO, NO_BASELINE, 0, -1, 120, OK, 0, 0},
        {"ratio dec met (0 <= 0)", DEC, RATIO, NO_BASELINE, 0, 0, 120, OK, 100, 100},
        {"ratio dec not met (3 > 0)", DEC, RATIO, NO_BASELINE, 0, 3, 120, OK, 0, 0},
        {"linear inc met", INC, LINEAR, NO_BASELINE, 0, 2, 120, OK, 100, 100},
        {"linear inc not met", INC, LINEAR, NO_BASELINE, 0, -2, 120, OK, 0, 0},
        {"linear dec met", DEC, LINEAR, NO_BASELINE, 0, 0, 120, OK, 100, 100},
        {"linear dec not met", DEC, LINEAR, NO_BASELINE, 0, 1, 120, OK, 0, 0},
    };
    (void)state;
    CASES(cases);
}

static void test_score_negative_ratios_are_errors(void **state)
{
    static const struct score_case cases[] = {
        {"ratio inc, t < 0", INC, RATIO, NO_BASELINE, -5, 3, 120, ERROR, 0, 0},
        {"ratio dec, t < 0", DEC, RATIO, NO_BASELINE, -5, -7, 120, ERROR, 0, 0},
        {"linear inc, t < 0", INC, LINEAR, NO_BASELINE, -5, 3, 120, ERROR, 0, 0},
        {"linear dec, t < 0", DEC, LINEAR, NO_BASELINE, -5, 3, 120, ERROR, 0, 0},
        {"ratio dec, a < 0", DEC, RATIO, NO_BASELINE, 10, -1, 120, ERROR, 0, 0},
    };
    (void)state;
    CASES(cases);
}

static void test_score_linear(void **state)
{
    static const struct score_case cases[] = {
        /* increase: a / t x 100 = 30 / 40 x 100 = 75 */
        {"inc", INC, LINEAR, NO_BASELINE, 40, 30, 120, OK, 75, 75},
        /* increase: 60 / 40 x 100 = 150, capped 120 */
        {"inc above cap", INC, LINEAR, NO_BASELINE, 40, 60, 120, OK, 150, 120},
        /* increase: -4 / 40 x 100 = -10, floored 0 */
        {"inc floored", INC, LINEAR, NO_BASELINE, 40, -4, 120, OK, 0, 0},
        /* decrease: (2 - 12 / 10) x 100 = (2 - 1.2) x 100 = 80 */
        {"dec worse", DEC, LINEAR, NO_BASELINE, 10, 12, 120, OK, 80, 80},
        /* decrease: (2 - 8 / 10) x 100 = 1.2 x 100 = 120 */
        {"dec better", DEC, LINEAR, NO_BASELINE, 10, 8, 120, OK, 120, 120},
        /* decrease: (2 - 5 / 10) x 100 = 150, capped 120 */
        {"dec much better", DEC, LINEAR, NO_BASELINE, 10, 5, 120, OK, 150, 120},
        /* decrease: (2 - 25 / 10) x 100 = -50, floored 0 */
        {"dec floored", DEC, LINEAR, NO_BASELINE, 10, 25, 120, OK, 0, 0},
        /* decrease, a = 0: (2 - 0) x 100 = 200, capped 120; no special case */
        {"dec zero actual", DEC, LINEAR, NO_BASELINE, 10, 0, 120, OK, 200, 120},
        /* decrease, a < 0 is allowed for linear: (2 + 0.5) x 100 = 250 */
        {"dec negative actual", DEC, LINEAR, NO_BASELINE, 10, -5, 120, OK, 250, 120},
    };
    (void)state;
    CASES(cases);
}

static void test_score_baseline(void **state)
{
    static const struct score_case cases[] = {
        /* (75 - 50) / (100 - 50) x 100 = 25 / 50 x 100 = 50 */
        {"inc halfway", INC, BASELINE, true, 50, 100, 75, 120, OK, 50, 50},
        /* (40 - 50) / (100 - 50) x 100 = -20, floored 0 */
        {"inc below baseline", INC, BASELINE, true, 50, 100, 40, 120, OK, 0, 0},
        /* (120 - 50) / (100 - 50) x 100 = 140, capped 120 */
        {"inc above target", INC, BASELINE, true, 50, 100, 120, 120, OK, 140, 120},
        /* (15 - 20) / (10 - 20) x 100 = -5 / -10 x 100 = 50 */
        {"dec halfway", DEC, BASELINE, true, 20, 10, 15, 120, OK, 50, 50},
        /* (25 - 20) / (10 - 20) x 100 = 5 / -10 x 100 = -50, floored 0 */
        {"dec got worse", DEC, BASELINE, true, 20, 10, 25, 120, OK, 0, 0},
        /* Negative numbers are fine here: (-7 + 10) / (-5 + 10) x 100 = 3 / 5 x 100 = 60 */
        {"negative target", INC, BASELINE, true, -10, -5, -7, 120, OK, 60, 60},
        /* t = b: 100 if met, else 0 */
        {"t = b inc met", INC, BASELINE, true, 10, 10, 10, 120, OK, 100, 100},
        {"t = b inc not met", INC, BASELINE, true, 10, 10, 9, 120, OK, 0, 0},
        {"t = b dec met", DEC, BASELINE, true, 10, 10, 9, 120, OK, 100, 100},
        {"t = b dec not met", DEC, BASELINE, true, 10, 10, 11, 120, OK, 0, 0},
    };
    (void)state;
    CASES(cases);
}

static void test_score_binary(void **state)
{
    static const struct score_case cases[] = {
        {"inc met exactly", INC, BINARY, NO_BASELINE, 40, 40, 120, OK, 100, 100},
        {"inc met", INC, BINARY, NO_BASELINE, 40, 400, 120, OK, 100, 100},
        {"inc not met", INC, BINARY, NO_BASELINE, 40, 39.9, 120, OK, 0, 0},
        {"dec met exactly", DEC, BINARY, NO_BASELINE, 40, 40, 120, OK, 100, 100},
        {"dec not met", DEC, BINARY, NO_BASELINE, 40, 41, 120, OK, 0, 0},
        /* No ratio, so a negative target is fine: -5 >= -10 is met. */
        {"negative target", INC, BINARY, NO_BASELINE, -10, -5, 120, OK, 100, 100},
        /* A cap below 100 applies to binary too: min(100, 90) = 90. */
        {"cap 90", INC, BINARY, NO_BASELINE, 40, 50, 90, OK, 100, 90},
    };
    (void)state;
    CASES(cases);
}

static void test_score_overflow_is_held_at_the_bound(void **state)
{
    static const struct score_case cases[] = {
        /* 1e308 / 1e-10 x 100 = 1e320 exactly (inf in doubles): held at
         * 1e9, capped 120 (it was an error) */
        {"ratio overflow", INC, RATIO, NO_BASELINE, 1e-10, 1e308, 120, OK, 1e9, 120},
        /* 1e-10 / 1e-320 x 100, decrease: the same */
        {"decrease overflow", DEC, RATIO, NO_BASELINE, 1e-10, 1e-320, 120, OK, 1e9, 120},
    };
    (void)state;
    CASES(cases);
}

/* Red-team issue 9, finding 12: every achievement is finite and within
 * [-1e9, 1e9] percent (score.h); the built-in rules are held in [0, 1e9]
 * as if computed exactly, so an overflow inside one does not decide its
 * outcome. */
static void test_score_results_are_bounded(void **state)
{
    static const struct score_case cases[] = {
        /* 1e7 / 1 x 100 = 1e9: the bound itself is a score; capped 120 */
        {"ratio at the bound", INC, RATIO, NO_BASELINE, 1, 1e7, 120, OK, 1e9, 120},
        /* 1.5e7 / 1 x 100 = 1.5e9 > 1e9: held at 1e9, capped 120 */
        {"ratio above the bound", INC, RATIO, NO_BASELINE, 1, 1.5e7, 120, OK, 1e9, 120},
        /* 1e300 / 1e-300 overflows: exactly 1e602 percent, held at 1e9 */
        {"ratio overflow", INC, RATIO, NO_BASELINE, 1e-300, 1e300, 120, OK, 1e9, 120},
        /* -1e300 / 1e-10 = -1e310 (-inf in doubles), floored at 0 as exactly */
        {"ratio below -DBL_MAX", INC, RATIO, NO_BASELINE, 1e-10, -1e300, 120, OK, 0, 0},
        /* (2 - 1e300 / 1e-300) x 100 = -inf, floored at 0 */
        {"linear decrease below -DBL_MAX", DEC, LINEAR, NO_BASELINE, 1e-300, 1e300, 120, OK, 0, 0},
        /* (1e308 - -1e308) / (1e308 - -1e308) x 100: 2e308 overflows, the
         * ratio is 1: 100 (was inf / inf = NaN) */
        {"baseline across the range", INC, BASELINE, true, -1e308, 1e308, 1e308, 120, OK, 100, 100},
        /* (1e308 - -1e308) / (1 - -1e308) x 100 = 2e308 / 1e308 x 100 = 200,
         * capped 120 (the difference overflows; it was an error) */
        {"baseline difference overflow", INC, BASELINE, true, -1e308, 1, 1e308, 120, OK, 200, 120},
        /* (0 - -1e308) / (1e308 - -1e308) x 100 = 1e308 / 2e308 x 100 = 50 */
        {"baseline halfway", INC, BASELINE, true, -1e308, 1e308, 0, 120, OK, 50, 50},
        /* (-1e300 - 0) / (1e-300 - 0) = -inf: floored at 0 */
        {"baseline far below", INC, BASELINE, true, 0, 1e-300, -1e300, 120, OK, 0, 0},
        /* decrease, a = 0: the cap, but never above the bound: min(1e308, 1e9) */
        {"decrease zero actual, huge cap", DEC, RATIO, NO_BASELINE, 5, 0, 1e308, OK, 1e9, 1e9},
        /* with a cap of 1e308 nothing above 1e9 gets through either:
         * 2e7 / 1 x 100 = 2e9 -> 1e9, capped min(1e9, 1e308) = 1e9 */
        {"huge cap", INC, RATIO, NO_BASELINE, 1, 2e7, 1e308, OK, 1e9, 1e9},
    };
    (void)state;
    CASES(cases);
}

static void score_expression(bool has_value, double value, double cap, struct kpi_result *r)
{
    struct kpi_indicator k;
    memset(&k, 0, sizeof k);
    memset(r, 0, sizeof *r);
    k.id = "K";
    k.scoring = KPI_SCORING_EXPRESSION;
    k.scoring_text = "whatever";
    k.target = 40;
    r->status = KPI_STATUS_OK;
    r->has_actual = true;
    r->actual = 30;
    r->has_score_value = has_value;
    r->score_value = value;
    kpi_score(&k, r, cap);
}

static void test_score_expression(void **state)
{
    struct kpi_result r;
    (void)state;
    /* The expression's value is the achievement, whatever a and t are. */
    score_expression(true, 87.5, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_near(r.achievement, 87.5, 0);
    assert_near(r.achievement_capped, 87.5, 0);
    /* Capped like every rule: min(500, 120) = 120. */
    score_expression(true, 500, 120, &r);
    assert_near(r.achievement, 500, 0);
    assert_near(r.achievement_capped, 120, 0);
    /* Not floored at 0: only the other rules are. */
    score_expression(true, -10, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_near(r.achievement, -10, 0);
    assert_near(r.achievement_capped, -10, 0);
    /* No value (the expression failed): error. */
    score_expression(false, 0, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_non_null(r.message);
    /* A non-finite value that slipped through: error. */
    score_expression(true, NAN, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    score_expression(true, INFINITY, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
}

/* The expression's value is bounded like every rule's: the finding's
 * -1e308 at weight 2 made weight x capped -inf and blanked the roll-up. */
static void test_score_expression_out_of_range_is_an_error(void **state)
{
    struct kpi_result r;
    (void)state;
    score_expression(true, -1e308, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    assert_non_null(strstr(r.message, "out of range"));
    score_expression(true, 1e308, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    score_expression(true, -1.000001e9, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    score_expression(true, -INFINITY, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_ERROR);
    /* The bounds themselves are scores: -1e9 capped is -1e9; 1e9 capped 120. */
    score_expression(true, -1e9, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_near(r.achievement, -1e9, 0);
    assert_near(r.achievement_capped, -1e9, 0);
    score_expression(true, 1e9, 120, &r);
    assert_int_equal(r.status, KPI_STATUS_OK);
    assert_near(r.achievement, 1e9, 0);
    assert_near(r.achievement_capped, 120, 0);
}

static void test_score_leaves_rows_that_are_not_ok(void **state)
{
    static const enum kpi_status statuses[] = {KPI_STATUS_MISSING, KPI_STATUS_ERROR,
                                               KPI_STATUS_INVALID};
    struct kpi_indicator k;
    (void)state;
    memset(&k, 0, sizeof k);
    k.id = "K";
    k.target = 40;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        struct kpi_result r;
        memset(&r, 0, sizeof r);
        r.status = statuses[i];
        r.message = "kept";
        r.actual = 30;
        r.achievement = -1;
        r.achievement_capped = -2;
        kpi_score(&k, &r, 120);
        assert_int_equal(r.status, statuses[i]);
        assert_string_equal(r.message, "kept");
        assert_near(r.achievement, -1, 0);
        assert_near(r.achievement_capped, -2, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_ratio_increase),
        cmocka_unit_test(test_score_ratio_decrease),
        cmocka_unit_test(test_score_ratio_decrease_zero_actual_gets_cap),
        cmocka_unit_test(test_score_ratio_and_linear_zero_target),
        cmocka_unit_test(test_score_negative_ratios_are_errors),
        cmocka_unit_test(test_score_linear),
        cmocka_unit_test(test_score_baseline),
        cmocka_unit_test(test_score_binary),
        cmocka_unit_test(test_score_overflow_is_held_at_the_bound),
        cmocka_unit_test(test_score_expression),
        cmocka_unit_test(test_score_results_are_bounded),
        cmocka_unit_test(test_score_expression_out_of_range_is_an_error),
        cmocka_unit_test(test_score_leaves_rows_that_are_not_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
