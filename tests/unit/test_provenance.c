/* Unit tests of engine/provenance.c: SHA-256 and line counts checked
 * against sha256sum and wc run by the test, the command line checked by
 * running it in a shell, the times against date(1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/provenance.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];

/* The first line a shell command prints, without its newline. */
static void shell_line(const char *command, char *out, size_t size)
{
    FILE *p = popen(command, "r");
    assert_non_null(p);
    if (!fgets(out, (int)size, p))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    assert_int_equal(pclose(p), 0);
}

/* Files on both sides of the digest's 64-byte block and of the reading
 * buffer (64 KiB), with and without a last newline, and empty. */
static void test_provenance_sha256_matches_sha256sum(void **state)
{
    static const size_t sizes[] = {0, 1, 55, 56, 63, 64, 65, 65535, 65536, 65537, 300001};
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        char *bytes = malloc(n + 1), path[SCRATCH_PATH_MAX], name[32], cmd[SCRATCH_PATH_MAX + 64];
        char want[128], hex[KPI_SHA256_HEX], mem_hex[KPI_SHA256_HEX];
        uint64_t lines = 0, mem_lines = 0;
        struct kpi_error err = {0};
        assert_non_null(bytes);
        for (size_t i = 0; i < n; i++)
            bytes[i] = i % 61 == 60 ? '\n' : (char)('a' + (i * 7 + s) % 26);
        snprintf(name, sizeof name, "file-%zu", n);
        scratch_write_bytes(scratch_join(path, tmp, name), bytes, n);

        snprintf(cmd, sizeof cmd, "sha256sum '%s' | cut -d' ' -f1", path);
        shell_line(cmd, want, sizeof want);
        assert_int_equal(kpi_sha256_file(path, hex, &lines, &err), 0);
        assert_string_equal(hex, want);
        kpi_sha256_lines(bytes, n, mem_hex, &mem_lines);
        assert_string_equal(mem_hex, want);

        /* Lines: awk counts a last line without a newline, as kpieval does. */
        snprintf(cmd, sizeof cmd, "awk 'END { print NR }' '%s'", path);
        shell_line(cmd, want, sizeof want);
        assert_int_equal(lines, strtoull(want, NULL, 10));
        assert_int_equal(mem_lines, lines);

        /* The streaming digest, fed in uneven pieces, agrees. */
        kpi_sha256 *h = kpi_sha256_new();
        assert_non_null(h);
        for (size_t at = 0, step = 1; at < n; at += step, step = step * 3 + 1)
            kpi_sha256_update(h, bytes + at, at + step <= n ? step : n - at);
        kpi_sha256_final(h, mem_hex);
        assert_string_equal(mem_hex, hex);
        kpi_sha256_free(h);
        free(bytes);
    }
    uint64_t lines;
    char hex[KPI_SHA256_HEX], path[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    assert_int_equal(kpi_sha256_file(scratch_join(path, tmp, "absent"), hex, &lines, &err),
                     KPI_EIO);
    assert_non_null(strstr(err.message, "absent: cannot open"));
}

/* The command line, pasted into a shell, gives the program the same
 * arguments. */
static void test_provenance_command_runs_again(void **state)
{
    const char *argv[] = {"printf", "[%s]", "it's", "a b", "", "$HOME", "`x`", "tab\there",
                          "--cap=120", "plain/path.csv", "'", "\\n", "서울"};
    struct kpi_provenance p;
    struct kpi_error err = {0};
    char got[512];
    (void)state;
    kpi_provenance_init(&p);
    assert_int_equal(kpi_provenance_set_command(&p, sizeof argv / sizeof argv[0], argv, &err), 0);
    assert_non_null(strstr(p.command, "printf '[%s]' 'it'\\''s' 'a b' '' '$HOME'"));
    assert_non_null(strstr(p.command, " --cap=120 plain/path.csv "));
    shell_line(p.command, got, sizeof got);
    assert_string_equal(got, "[it's][a b][][$HOME][`x`][tab\there][--cap=120][plain/path.csv]['][\\n][서울]");
    kpi_provenance_release(&p);
}

static void test_provenance_times_utc_and_source_date_epoch(void **state)
{
    char now[KPI_TIME_BUF], want[64], cmd[128];
    struct kpi_error err = {0};
    (void)state;
    unsetenv(KPI_SOURCE_DATE_EPOCH);
    assert_int_equal(kpi_provenance_now(now, &err), 0);
    assert_true(kpi_provenance_time_ok(now));
    shell_line("date -u +%Y-%m-%d", want, sizeof want);
    assert_memory_equal(now, want, 10); /* (a run at midnight may see this fail) */

    static const char *const epochs[] = {"0", "1796538000", "951782400", "253402300799"};
    for (size_t i = 0; i < sizeof epochs / sizeof epochs[0]; i++) {
        setenv(KPI_SOURCE_DATE_EPOCH, epochs[i], 1);
        assert_int_equal(kpi_provenance_now(now, &err), 0);
        snprintf(cmd, sizeof cmd, "date -u -d @%s +%%Y-%%m-%%dT%%H:%%M:%%SZ", epochs[i]);
        shell_line(cmd, want, sizeof want);
        assert_string_equal(now, want);
        assert_true(kpi_provenance_time_ok(now));
    }
    static const char *const bad[] = {"", "-1", "12a", " 5", "253402300800", "99999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(KPI_SOURCE_DATE_EPOCH, bad[i], 1);
        assert_int_equal(kpi_provenance_now(now, &err), KPI_EUSAGE);
        assert_non_null(strstr(err.message, "SOURCE_DATE_EPOCH"));
    }
    unsetenv(KPI_SOURCE_DATE_EPOCH);

    static const char *const not_times[] = {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                                            "2026-12-06T24:00:00Z", "2026-12-06 06:40:00Z",
                                            "2026-12-06T06:40:00", "2026-12-06T06:40:00+09:00",
                                            "2026-12-00T06:40:00Z", ""};
    for (size_t i = 0; i < sizeof not_times / sizeof not_times[0]; i++)
        if (kpi_provenance_time_ok(not_times[i]))
            fail_msg("'%s' taken for a time", not_times[i]);
    assert_true(kpi_provenance_time_ok("2024-02-29T23:59:59Z"));
}

static void test_provenance_settings_are_a_list(void **state)
{
    struct kpi_provenance a, b;
    struct kpi_error err = {0};
    (void)state;
    kpi_provenance_init(&a);
    kpi_provenance_init(&b);
    assert_int_equal(kpi_provenance_set(&a, "cap", "120", &err), 0);
    assert_int_equal(kpi_provenance_set(&a, "unscored", "zero", &err), 0);
    assert_int_equal(kpi_provenance_set(&a, "cap", "150", &err), 0);
    assert_int_equal(a.n_settings, 2);
    assert_string_equal(kpi_provenance_get(&a, "cap"), "150");
    assert_null(kpi_provenance_get(&a, "period"));
    assert_int_equal(kpi_provenance_set(&b, "cap", "150", &err), 0);
    assert_false(kpi_provenance_same_inputs(&a, &b));
    assert_int_equal(kpi_provenance_set(&b, "unscored", "zero", &err), 0);
    assert_true(kpi_provenance_same_inputs(&a, &b));
    char hex[KPI_SHA256_HEX];
    memset(hex, 'a', 64);
    hex[64] = '\0';
    assert_int_equal(kpi_provenance_add_file(&a, KPI_PROVENANCE_INPUT, "x.csv", hex, 3, &err), 0);
    assert_false(kpi_provenance_same_inputs(&a, &b));
    assert_int_equal(kpi_provenance_add_file(&b, KPI_PROVENANCE_INPUT, "x.csv", hex, 4, &err), 0);
    assert_false(kpi_provenance_same_inputs(&a, &b)); /* other rows */
    assert_int_equal(kpi_provenance_add_file(&a, KPI_PROVENANCE_INPUT, "y.csv", "abc", 3, &err),
                     KPI_EUSAGE);
    kpi_provenance_release(&a);
    kpi_provenance_release(&b);
}

static int setup(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "provenance");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provenance_sha256_matches_sha256sum),
        cmocka_unit_test(test_provenance_command_runs_again),
        cmocka_unit_test(test_provenance_times_utc_and_source_date_epoch),
        cmocka_unit_test(test_provenance_settings_are_a_list),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
