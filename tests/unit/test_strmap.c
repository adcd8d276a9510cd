/* Unit tests of the string map: lookups by content, duplicates, growth,
 * and its keyed hash (hash flooding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fnv_flood.h"
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

/* Slot index of each key (keys[i] is "k<i>"). */
static void layout(const struct kpi_strmap *m, size_t n, size_t *slot_of)
{
    for (size_t s = 0; s < m->cap; s++) {
        if (m->slots[s].key)
            slot_of[strtoul(m->slots[s].key + 1, NULL, 10)] = s;
    }
    (void)n;
}

static void test_strmap_keys_change_layout_not_lookups(void **state)
{
    enum { COUNT = 1000 };
    static const uint64_t key_a[2] = {1, 2}, key_b[2] = {0x0123456789abcdefULL, 42};
    static char keys[COUNT][16];
    static size_t slot_a[COUNT], slot_b[COUNT];
    struct kpi_strmap a, b;
    size_t moved = 0;
    unsigned va, vb;
    (void)state;
    kpi_strmap_init_keyed(&a, key_a);
    kpi_strmap_init_keyed(&b, key_b);
    for (unsigned i = 0; i < COUNT; i++) {
        snprintf(keys[i], sizeof keys[i], "k%u", i);
        assert_int_equal(kpi_strmap_put(&a, keys[i], i, NULL, NULL), 1);
        assert_int_equal(kpi_strmap_put(&b, keys[i], i, NULL, NULL), 1);
    }
    assert_int_equal(a.cap, b.cap);
    layout(&a, COUNT, slot_a);
    layout(&b, COUNT, slot_b);
    for (unsigned i = 0; i < COUNT; i++)
        moved += slot_a[i] != slot_b[i];
    /* With 2048 slots, two independent hashes agree on a key's slot about
     * once in 2048: nearly every key moves. */
    if (moved < COUNT / 2)
        fail_msg("only %zu of %d keys in another slot under another key", moved, COUNT);
    for (unsigned i = 0; i < COUNT; i++) {
        char probe[16];
        snprintf(probe, sizeof probe, "k%u", i);
        assert_true(kpi_strmap_get(&a, probe, &va));
        assert_true(kpi_strmap_get(&b, probe, &vb));
        assert_int_equal(va, i);
        assert_int_equal(vb, i);
    }
    assert_false(kpi_strmap_get(&a, "k1000", &va));
    assert_false(kpi_strmap_get(&b, "k1000", &vb));
    kpi_strmap_release(&a);
    kpi_strmap_release(&b);
}

/* Each process draws its own key: another run of this program (exec'd,
 * not forked: a fork shares the key) lays keys out differently. A key
 * fixed at build time could be learned once and flooded forever. */
static void print_key(void)
{
    struct kpi_strmap m;
    kpi_strmap_init(&m);
    printf("%016llx%016llx\n", (unsigned long long)m.key[0], (unsigned long long)m.key[1]);
}

static const char *self_path; /* this program, from main's argv[0] */

static void test_strmap_key_differs_between_processes(void **state)
{
    struct kpi_strmap m, again;
    char mine[40], theirs[40] = "";
    int fds[2], status;
    pid_t pid;
    (void)state;
    kpi_strmap_init(&m);
    kpi_strmap_init(&again);
    assert_memory_equal(again.key, m.key, sizeof m.key); /* one key per process */
    snprintf(mine, sizeof mine, "%016llx%016llx\n", (unsigned long long)m.key[0],
             (unsigned long long)m.key[1]);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        /* argv[0], not /proc/self/exe: under valgrind that is valgrind. */
        execl(self_path, "test_strmap", "--print-key", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    assert_non_null(f);
    assert_non_null(fgets(theirs, sizeof theirs, f));
    fclose(f);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(strlen(theirs), 33);
    assert_string_not_equal(theirs, mine);
    kpi_strmap_release(&m);
    kpi_strmap_release(&again);
}

/* Keys built to share one slot under the old unseeded FNV-1a (every
 * capacity up to 1024 slots, so through every growth of 512 keys) spread
 * like any keys under the keyed hash: inserting and finding each of them
 * visits a few slots, not a run as long as the map. */
static void test_strmap_fnv_collisions_do_not_pile_up(void **state)
{
    enum { BITS = 10, BLOCKS = 9, COUNT = 1 << BLOCKS };
    size_t len = BLOCKS * FNV_FLOOD_BLOCK + 1;
    char *keys = fnv_flood_keys(BITS, BLOCKS);
    struct kpi_strmap m;
    unsigned long long before;
    unsigned v;
    (void)state;
    assert_non_null(keys);
    /* The attack works on the old hash: one slot for all. */
    for (size_t i = 1; i < COUNT; i++)
        assert_int_equal(fnv_flood_old_hash(keys + i * len) & ((1u << BITS) - 1),
                         fnv_flood_old_hash(keys) & ((1u << BITS) - 1));
    kpi_strmap_init(&m);
    before = kpi_strmap_probes;
    for (size_t i = 0; i < COUNT; i++)
        assert_int_equal(kpi_strmap_put(&m, keys + i * len, (unsigned)i, NULL, NULL), 1);
    for (size_t i = 0; i < COUNT; i++) {
        assert_true(kpi_strmap_get(&m, keys + i * len, &v));
        assert_int_equal(v, i);
    }
    /* Linear probing at load <= 3/4 visits about 2.5 slots per insert and
     * 1.5 per hit on average, plus the rehashes when growing (< 2 per key
     * in all): about 6 per key. A pile-up visits COUNT / 2 per key. */
    unsigned long long probes = kpi_strmap_probes - before;
    if (probes > 16ULL * COUNT)
        fail_msg("%llu slots visited for %d keys: they pile up", probes, COUNT);
    kpi_strmap_release(&m);
    free(keys);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--print-key")) {
        print_key();
        return 0;
    }
    self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strmap_empty_map_finds_nothing),
        cmocka_unit_test(test_strmap_put_then_get),
        cmocka_unit_test(test_strmap_matches_content_not_pointer),
        cmocka_unit_test(test_strmap_duplicate_keeps_first),
        cmocka_unit_test(test_strmap_grows_and_keeps_every_key),
        cmocka_unit_test(test_strmap_keys_change_layout_not_lookups),
        cmocka_unit_test(test_strmap_key_differs_between_processes),
        cmocka_unit_test(test_strmap_fnv_collisions_do_not_pile_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
