/* Unit tests of the string map: lookups by content, duplicates, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strmap.h"

static void test_strmap_empty_map_finds_nothing(void **state)
{
    struct kpi_strmap m;
    unsigned v = 77;
    (void)state;
    kpi_strmap_init(&m);
    assert_false(kpi_strmap_get(&m, "anything", &v));
    assert_false(kpi_strmap_get(&m, "", &v));
    assert_int_equal(v, 77); /* untouched when absent */
    assert_int_equal(m.count, 0);
    kpi_strmap_release(&m);
    kpi_strmap_release(&m); /* release twice is harmless: it re-inits */
}

static void test_strmap_put_then_get(void **state)
{
    struct kpi_strmap m;
    unsigned v = 0;
    (void)state;
    kpi_strmap_init(&m);
    assert_int_equal(kpi_strmap_put(&m, "KPI-1", 10, NULL, NULL), 1);
    assert_int_equal(kpi_strmap_put(&m, "KPI-2", 20, NULL, NULL), 1);
    assert_int_equal(kpi_strmap_put(&m, "경제정책과", 30, NULL, NULL), 1);
    assert_int_equal(kpi_strmap_put(&m, "", 40, NULL, NULL), 1);
    assert_int_equal(m.count, 4);
    assert_true(kpi_strmap_get(&m, "KPI-1", &v));
    assert_int_equal(v, 10);
    assert_true(kpi_strmap_get(&m, "KPI-2", &v));
    assert_int_equal(v, 20);
    assert_true(kpi_strmap_get(&m, "경제정책과", &v));
    assert_int_equal(v, 30);
    assert_true(kpi_strmap_get(&m, "", &v));
    assert_int_equal(v, 40);
    assert_false(kpi_strmap_get(&m, "KPI-3", &v));
    assert_false(kpi_strmap_get(&m, "KPI-", &v));
    assert_false(kpi_strmap_get(&m, "kpi-1", &v)); /* case-sensitive */
    kpi_strmap_release(&m);
}

static void test_strmap_matches_content_not_pointer(void **state)
{
    struct kpi_strmap m;
    char stored[] = "employed";
    char probe[16];
    unsigned v = 0;
    (void)state;
    kpi_strmap_init(&m);
    assert_int_equal(kpi_strmap_put(&m, stored, 5, NULL, NULL), 1);
    snprintf(probe, sizeof probe, "%s", "employed");
    assert_ptr_not_equal(probe, stored);
    assert_true(kpi_strmap_get(&m, probe, &v));
    assert_int_equal(v, 5);
    kpi_strmap_release(&m);
}

static void test_strmap_duplicate_keeps_first(void **state)
{
    struct kpi_strmap m;
    char first[] = "KPI-7";
    char second[] = "KPI-7";
    unsigned existing = 0, v = 0;
    const char *key_out = NULL;
    (void)state;
    kpi_strmap_init(&m);
    assert_int_equal(kpi_strmap_put(&m, first, 1, NULL, NULL), 1);
    assert_int_equal(kpi_strmap_put(&m, second, 2, &existing, &key_out), 0);
    assert_int_equal(existing, 1);
    assert_ptr_equal(key_out, first); /* the stored key, not the new one */
    assert_true(kpi_strmap_get(&m, "KPI-7", &v));
    assert_int_equal(v, 1);
    assert_int_equal(m.count, 1);
    /* existing and key_out may be NULL. */
    assert_int_equal(kpi_strmap_put(&m, second, 3, NULL, NULL), 0);
    kpi_strmap_release(&m);
}

static void test_strmap_grows_and_keeps_every_key(void **state)
{
    enum { COUNT = 20000 };
    struct kpi_strmap m;
    char(*keys)[16] = malloc(COUNT * sizeof *keys);
    unsigned v;
    (void)state;
    assert_non_null(keys);
    kpi_strmap_init(&m);
    for (unsigned i = 0; i < COUNT; i++) {
        snprintf(keys[i], sizeof keys[i], "k%u", i);
        assert_int_equal(kpi_strmap_put(&m, keys[i], i * 3, NULL, NULL), 1);
    }
    assert_int_equal(m.count, COUNT);
    /* Open addressing needs a free slot: the table must stay larger. */
    assert_true(m.cap > m.count);
    assert_int_equal(m.cap & (m.cap - 1), 0); /* a power of two */
    for (unsigned i = 0; i < COUNT; i++) {
        char probe[16];
        snprintf(probe, sizeof probe, "k%u", i);
        if (!kpi_strmap_get(&m, probe, &v) || v != i * 3)
            fail_msg("key %s lost or wrong after growth", probe);
    }
    assert_false(kpi_strmap_get(&m, "k20000", &v));
    assert_false(kpi_strmap_get(&m, "k-1", &v));
    kpi_strmap_release(&m);
    free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strmap_empty_map_finds_nothing),
        cmocka_unit_test(test_strmap_put_then_get),
        cmocka_unit_test(test_strmap_matches_content_not_pointer),
        cmocka_unit_test(test_strmap_duplicate_keeps_first),
        cmocka_unit_test(test_strmap_grows_and_keeps_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
