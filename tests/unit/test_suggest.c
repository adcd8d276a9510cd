/* Unit tests of "did you mean" (suggest.h): the distance, the bound that
 * grows with the name, and a pick that does not depend on offer order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "suggest.h"

static void test_suggest_distance(void **state)
{
    (void)state;
    assert_int_equal(kpi_suggest_distance("regular", "regular"), 0);
    assert_int_equal(kpi_suggest_distance("regular", "reguler"), 1); /* replace */
    assert_int_equal(kpi_suggest_distance("regular", "regualr"), 1); /* swap */
    assert_int_equal(kpi_suggest_distance("1-1.regular", "1-1regular"), 1);
    assert_int_equal(kpi_suggest_distance("", "abc"), 3);
    assert_int_equal(kpi_suggest_distance("kitten", "sitting"), 3);
}

static void test_suggest_nearest_in_any_order(void **state)
{
    static const char *const ids[] = {"1-1.regular", "1-2.regular", "1-1.special", "2-1"};
    static const size_t orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}};
    (void)state;
    for (size_t o = 0; o < 3; o++) {
        struct kpi_suggestion s;
        kpi_suggestion_init(&s, "1-3.regular"); /* 1 from 1-1 and from 1-2: byte order wins */
        for (size_t i = 0; i < 4; i++)
            kpi_suggestion_offer(&s, ids[orders[o][i]]);
        assert_string_equal(s.nearest, "1-1.regular");
        assert_int_equal(s.distance, 1);
    }
}

static void test_suggest_bound(void **state)
{
    struct kpi_suggestion s;
    (void)state;
    kpi_suggestion_init(&s, "AB"); /* up to 4 bytes: 1 edit */
    kpi_suggestion_offer(&s, "XY");
    assert_null(s.nearest);
    kpi_suggestion_offer(&s, "A");
    assert_string_equal(s.nearest, "A");
    kpi_suggestion_init(&s, "employed"); /* up to 8: 2 */
    kpi_suggestion_offer(&s, "emplxxxd");
    assert_null(s.nearest); /* 3 edits */
    kpi_suggestion_offer(&s, "emplyoed");
    assert_string_equal(s.nearest, "emplyoed");
    kpi_suggestion_init(&s, "AB");
    kpi_suggestion_offer(&s, "AB"); /* the name itself is no suggestion */
    assert_null(s.nearest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_distance),
        cmocka_unit_test(test_suggest_nearest_in_any_order),
        cmocka_unit_test(test_suggest_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
