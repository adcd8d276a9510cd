/* Unit tests of "did you mean" (suggest.h): the distance, the bound (at
 * most 2 edits, at most half the letters), a pick that does not depend on
 * offer order, prefixes for options, lists. Worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "suggest.h"

static size_t dist(const char *a, const char *b)
{
    return kpi_suggest_distance(a, strlen(a), b, strlen(b));
}

static void test_suggest_distance(void **state)
{
    (void)state;
    assert_int_equal(dist("regular", "regular"), 0);
    assert_int_equal(dist("regular", "reguler"), 1); /* replace */
    assert_int_equal(dist("regular", "regualr"), 1); /* swap */
    assert_int_equal(dist("1-1.regular", "1-1regular"), 1);
    assert_int_equal(dist("", "abc"), 3);
    assert_int_equal(dist("kitten", "sitting"), 3);
}

static void test_suggest_nearest_in_any_order(void **state)
{
    static const char *const ids[] = {"1-1.regular", "1-2.regular", "1-1.special", "2-1"};
    static const size_t orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}};
    (void)state;
    for (size_t o = 0; o < 3; o++) {
        struct kpi_suggest s;
        /* 1 edit from 1-1.regular and from 1-2.regular: byte order wins */
        kpi_suggest_init(&s, "1-3.regular", 11, false);
        for (size_t i = 0; i < 4; i++)
            kpi_suggest_offer(&s, ids[orders[o][i]], 0);
        assert_string_equal(kpi_suggest_pick(&s), "1-1.regular");
    }
}

static void test_suggest_bound(void **state)
{
    struct kpi_suggest s;
    (void)state;
    kpi_suggest_init(&s, "AB", 2, false); /* 1 edit changes half of 2 letters */
    kpi_suggest_offer(&s, "XY", 0);
    assert_null(kpi_suggest_pick(&s));
    kpi_suggest_offer(&s, "A", 0);
    assert_string_equal(kpi_suggest_pick(&s), "A");
    kpi_suggest_init(&s, "employed", 8, false);
    kpi_suggest_offer(&s, "emplxxxd", 0);
    assert_null(kpi_suggest_pick(&s)); /* 3 edits */
    kpi_suggest_offer(&s, "emplyoed", 0);
    assert_string_equal(kpi_suggest_pick(&s), "emplyoed");
}

static void test_suggest_prefix_and_list(void **state)
{
    struct kpi_suggest s;
    (void)state;
    /* options: "--per" is the start of exactly one option */
    kpi_suggest_init(&s, "per", 3, true);
    kpi_suggest_offer(&s, "--period", 2);
    kpi_suggest_offer(&s, "--cap", 2);
    assert_string_equal(kpi_suggest_pick(&s), "--period");
    /* a list's pick outlives the list's buffer */
    char list[] = "eligible;employed";
    kpi_suggest_init(&s, "employd", 7, false);
    kpi_suggest_offer_list(&s, list, ";");
    memset(list, 'x', sizeof list - 1);
    assert_string_equal(kpi_suggest_pick(&s), "employed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_distance),
        cmocka_unit_test(test_suggest_nearest_in_any_order),
        cmocka_unit_test(test_suggest_bound),
        cmocka_unit_test(test_suggest_prefix_and_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
