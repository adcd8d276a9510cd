/* Unit tests of the arena: alignment, copies, block chaining, release. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static bool is_aligned(const void *p)
{
    return (uintptr_t)p % alignof(max_align_t) == 0;
}

static void test_arena_init_is_empty(void **state)
{
    struct kpi_arena a;
    (void)state;
    memset(&a, 0xAB, sizeof a);
    kpi_arena_init(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.size, 0);
    kpi_arena_release(&a); /* releasing an empty arena is fine */
    assert_null(a.head);
}

static void test_arena_alloc_is_aligned_after_odd_sizes(void **state)
{
    struct kpi_arena a;
    (void)state;
    kpi_arena_init(&a);
    /* strndup takes byte-aligned space; the next alloc must realign. */
    for (size_t n = 0; n < 40; n++) {
        char *s = kpi_arena_strndup(&a, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", n);
        assert_non_null(s);
        void *p = kpi_arena_alloc(&a, n + 1);
        assert_non_null(p);
        assert_true(is_aligned(p));
    }
    kpi_arena_release(&a);
}

static void test_arena_strndup_copies_and_terminates(void **state)
{
    struct kpi_arena a;
    const char source[] = "경제정책과,extra";
    (void)state;
    kpi_arena_init(&a);

    /* "경제정책과" is 5 Hangul syllables of 3 bytes each = 15 bytes. */
    char *s = kpi_arena_strndup(&a, source, 15);
    assert_non_null(s);
    assert_string_equal(s, "경제정책과");
    assert_ptr_not_equal(s, source);

    char *e = kpi_arena_strndup(&a, source, 0);
    assert_non_null(e);
    assert_string_equal(e, "");

    /* A copy is independent of its source. */
    char buf[8] = "abc";
    char *c = kpi_arena_strndup(&a, buf, 3);
    buf[0] = 'X';
    assert_string_equal(c, "abc");
    kpi_arena_release(&a);
}

static void test_arena_allocations_do_not_overlap_across_blocks(void **state)
{
    enum { COUNT = 3000, SIZE = 100 }; /* 300 000 bytes: several 64 KiB blocks */
    struct kpi_arena a;
    unsigned char *blocks[COUNT];
    (void)state;
    kpi_arena_init(&a);
    for (size_t i = 0; i < COUNT; i++) {
        blocks[i] = kpi_arena_alloc(&a, SIZE);
        assert_non_null(blocks[i]);
        memset(blocks[i], (int)(i % 251), SIZE);
    }
    for (size_t i = 0; i < COUNT; i++) {
        for (size_t j = 0; j < SIZE; j++) {
            if (blocks[i][j] != (unsigned char)(i % 251))
                fail_msg("block %zu byte %zu was overwritten", i, j);
        }
    }
    kpi_arena_release(&a);
}

static void test_arena_large_allocation_is_whole(void **state)
{
    /* Larger than any ordinary block: must still be one usable run. */
    const size_t big = 1000 * 1000;
    struct kpi_arena a;
    (void)state;
    kpi_arena_init(&a);
    char *small = kpi_arena_strndup(&a, "before", 6);
    unsigned char *p = kpi_arena_alloc(&a, big);
    assert_non_null(p);
    assert_true(is_aligned(p));
    memset(p, 0x5A, big);
    char *after = kpi_arena_strndup(&a, "after", 5);
    assert_non_null(after);
    assert_string_equal(small, "before");
    assert_string_equal(after, "after");
    assert_int_equal(p[0], 0x5A);
    assert_int_equal(p[big - 1], 0x5A);
    kpi_arena_release(&a);
}

static void test_arena_impossible_size_returns_null(void **state)
{
    struct kpi_arena a;
    (void)state;
    kpi_arena_init(&a);
    assert_null(kpi_arena_alloc(&a, SIZE_MAX));
    assert_null(kpi_arena_alloc(&a, SIZE_MAX - 64));
    /* The arena is still usable after a refused request. */
    char *s = kpi_arena_strndup(&a, "ok", 2);
    assert_non_null(s);
    assert_string_equal(s, "ok");
    kpi_arena_release(&a);
}

static void test_arena_release_resets_and_allows_reuse(void **state)
{
    struct kpi_arena a;
    (void)state;
    kpi_arena_init(&a);
    for (int i = 0; i < 100; i++)
        assert_non_null(kpi_arena_alloc(&a, 4096));
    kpi_arena_release(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.size, 0);
    char *s = kpi_arena_strndup(&a, "again", 5);
    assert_non_null(s);
    assert_string_equal(s, "again");
    kpi_arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_init_is_empty),
        cmocka_unit_test(test_arena_alloc_is_aligned_after_odd_sizes),
        cmocka_unit_test(test_arena_strndup_copies_and_terminates),
        cmocka_unit_test(test_arena_allocations_do_not_overlap_across_blocks),
        cmocka_unit_test(test_arena_large_allocation_is_whole),
        cmocka_unit_test(test_arena_impossible_size_returns_null),
        cmocka_unit_test(test_arena_release_resets_and_allows_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
