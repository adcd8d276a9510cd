/* Unit tests of stdlib_path: the order in which the standard formulas are
 * looked for (KPIEVAL_STDLIB, the installed layout, the build tree's marker)
 * and the message naming every place looked at, on fake layouts. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"
#include "stdlib_path.h"

/* A fresh folder for one case: root, with optional parts of a layout. */
struct layout {
    char root[SCRATCH_PATH_MAX];
    char exe[SCRATCH_PATH_MAX];         /* root/p/bin/kpieval (need not exist) */
    char installed[SCRATCH_PATH_MAX];   /* root/p/share/kpieval/formulas */
    char sources[SCRATCH_PATH_MAX];     /* root/src/formulas */
};

static void layout_make(struct layout *l, const char *name, bool installed, const char *marker)
{
    char path[SCRATCH_PATH_MAX];

    scratch_fresh_dir(l->root, name);
    scratch_mkdir(scratch_join(path, l->root, "p"));
    scratch_mkdir(scratch_join(path, l->root, "p/bin"));
    scratch_join(l->exe, l->root, "p/bin/kpieval");
    scratch_join(l->installed, l->root, "p/share/kpieval/formulas");
    scratch_join(l->sources, l->root, "src/formulas");
    if (installed) {
        scratch_mkdir(scratch_join(path, l->root, "p/share"));
        scratch_mkdir(scratch_join(path, l->root, "p/share/kpieval"));
        scratch_mkdir(l->installed);
    }
    if (marker)
        scratch_write(scratch_join(path, l->root, "p/bin/" KPI_STDLIB_MARKER), marker);
}

static void make_sources(struct layout *l)
{
    char path[SCRATCH_PATH_MAX];
    scratch_mkdir(scratch_join(path, l->root, "src"));
    scratch_mkdir(l->sources);
}

/* The build tree's marker beside the executable naming root/src/formulas,
 * ended by `end` ("\n" as CMake writes it, or "" to show it is optional). */
static void write_marker(struct layout *l, const char *end)
{
    char path[SCRATCH_PATH_MAX], text[SCRATCH_PATH_MAX + 2];
    snprintf(text, sizeof text, "%s%s", l->sources, end);
    scratch_write(scratch_join(path, l->root, "p/bin/" KPI_STDLIB_MARKER), text);
}

/* Layouts in which the formulas are found, and which folder wins. */
static const struct found_case {
    const char *name;
    bool installed, sources;  /* root/p/share/kpieval/formulas, root/src/formulas */
    const char *marker_end;   /* the marker naming src/formulas, so ended; NULL: none */
    const char *env;          /* KPIEVAL_STDLIB: NULL unset, "src" root/src/formulas */
    bool want_sources;        /* src/formulas found, else the installed folder */
    size_t places;            /* places looked at */
} found_cases[] = {
    {"env_used_before_the_install", true, true, NULL, "src", true, 1},
    {"empty_env_counts_as_unset", true, false, NULL, "", false, 1},
    {"installed_beside_the_executable", true, false, NULL, NULL, false, 1},
    {"installed_before_the_marker", true, true, "\n", NULL, false, 1},
    {"marker_names_the_sources", false, true, "\n", NULL, true, 2},
    {"marker_without_newline", false, true, "", NULL, true, 2},
};

static void test_stdlib_path_finds_in_order(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof found_cases / sizeof found_cases[0]; i++) {
        const struct found_case *fc = &found_cases[i];
        struct layout l;
        struct kpi_stdlib s;
        const char *env = fc->env && !strcmp(fc->env, "src") ? l.sources : fc->env;

        layout_make(&l, fc->name, fc->installed, NULL);
        if (fc->sources)
            make_sources(&l);
        if (fc->marker_end)
            write_marker(&l, fc->marker_end);
        if (kpi_stdlib_find(env, l.exe, &s) != 0)
            fail_msg("%s: %s", fc->name, s.error.message);
        /* p/share/..., not p/bin/../share/...: the path is recorded in report.json */
        if (strcmp(s.dir, fc->want_sources ? l.sources : l.installed))
            fail_msg("%s: found %s", fc->name, s.dir);
        if (s.n_places != fc->places)
            fail_msg("%s: %zu places looked at, expected %zu", fc->name, s.n_places, fc->places);
    }
}

static void test_stdlib_path_env_missing_is_an_error_without_fallback(void **state)
{
    struct layout l;
    struct kpi_stdlib s;
    char wrong[SCRATCH_PATH_MAX];
    (void)state;
    layout_make(&l, "env_missing", true, NULL); /* an install is there: not used */
    scratch_join(wrong, l.root, "nowhere");
    assert_int_equal(kpi_stdlib_find(wrong, l.exe, &s), KPI_EPLUGIN);
    assert_null(s.dir);
    assert_int_equal(s.error.code, KPI_EPLUGIN);
    assert_starts_with(s.error.message, "standard formulas not found; looked in '");
    assert_contains(s.error.message, wrong);
    assert_contains(s.error.message, "(KPIEVAL_STDLIB): No such file or directory");
    assert_contains(s.error.message, "set KPIEVAL_STDLIB to the folder");
    assert_not_contains(s.error.message, l.installed);
}

static void test_stdlib_path_env_file_is_not_a_folder(void **state)
{
    struct layout l;
    struct kpi_stdlib s;
    char file[SCRATCH_PATH_MAX];
    (void)state;
    layout_make(&l, "env_file", false, NULL);
    scratch_write(scratch_join(file, l.root, "ratio.lua"), "return 1\n");
    assert_int_equal(kpi_stdlib_find(file, l.exe, &s), KPI_EPLUGIN);
    assert_contains(s.error.message, "(KPIEVAL_STDLIB): not a folder");
}

static void test_stdlib_path_nothing_found_names_every_place(void **state)
{
    struct layout l;
    struct kpi_stdlib s;
    char marker[SCRATCH_PATH_MAX], want[3 * SCRATCH_PATH_MAX];
    (void)state;
    layout_make(&l, "nothing", false, NULL);
    scratch_join(marker, l.root, "p/bin/" KPI_STDLIB_MARKER);
    assert_int_equal(kpi_stdlib_find(NULL, l.exe, &s), KPI_EPLUGIN);
    assert_null(s.dir);
    assert_int_equal(s.n_places, 2);
    snprintf(want, sizeof want,
             "standard formulas not found; looked in '%s' (installed, relative to the "
             "executable): No such file or directory, '%s' (the build tree's marker, present "
             "only beside a built binary): No such file or directory; reinstall kpieval, or "
             "set KPIEVAL_STDLIB to the folder holding ratio.lua and the other standard "
             "formulas",
             l.installed, marker);
    assert_string_equal(s.error.message, want);
}

static void test_stdlib_path_marker_naming_a_missing_folder(void **state)
{
    struct layout l;
    struct kpi_stdlib s;
    (void)state;
    layout_make(&l, "moved_sources", false, NULL);
    write_marker(&l, ""); /* and no src/formulas */
    assert_int_equal(kpi_stdlib_find(NULL, l.exe, &s), KPI_EPLUGIN);
    assert_contains(s.error.message, l.sources);
    assert_contains(s.error.message, "named by " KPI_STDLIB_MARKER "): No such file");
}

static void test_stdlib_path_marker_must_be_one_absolute_path(void **state)
{
    static const char *const bad[] = {"", "\n", "src/formulas\n", "/a\n/b\n", "/a\n\n"};
    struct layout l;
    struct kpi_stdlib s;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        layout_make(&l, "bad_marker", false, bad[i]);
        assert_int_equal(kpi_stdlib_find(NULL, l.exe, &s), KPI_EPLUGIN);
        assert_contains(s.error.message, "marker, present only beside a built binary): not one "
                                         "absolute path");
    }
}

static void test_stdlib_path_marker_as_a_link_is_refused(void **state)
{
    struct layout l;
    struct kpi_stdlib s;
    char marker[SCRATCH_PATH_MAX], target[SCRATCH_PATH_MAX + 1];
    (void)state;
    layout_make(&l, "link_marker", false, NULL);
    make_sources(&l);
    scratch_join(target, l.root, "elsewhere");
    scratch_write(target, l.sources);
    assert_int_equal(symlink(target, scratch_join(marker, l.root, "p/bin/" KPI_STDLIB_MARKER)), 0);
    assert_int_equal(kpi_stdlib_find(NULL, l.exe, &s), KPI_EPLUGIN);
    assert_contains(s.error.message, "): not a regular file");
}

static void test_stdlib_path_relative_executable_is_refused(void **state)
{
    struct kpi_stdlib s;
    (void)state;
    assert_int_equal(kpi_stdlib_find(NULL, "bin/kpieval", &s), KPI_EPLUGIN);
    assert_contains(s.error.message, "'bin/kpieval' (installed, relative to the executable): "
                                     "the executable's path is not absolute");
}

static void test_stdlib_path_reads_the_running_executable(void **state)
{
    struct kpi_stdlib s;
    char self[PATH_MAX];
    (void)state;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    /* This test program has neither an install nor a marker beside it. */
    assert_int_equal(kpi_stdlib_find(NULL, NULL, &s), KPI_EPLUGIN);
    assert_int_equal(s.n_places, 2);
    assert_starts_with(s.place[1].path, self);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdlib_path_finds_in_order),
        cmocka_unit_test(test_stdlib_path_env_missing_is_an_error_without_fallback),
        cmocka_unit_test(test_stdlib_path_env_file_is_not_a_folder),
        cmocka_unit_test(test_stdlib_path_nothing_found_names_every_place),
        cmocka_unit_test(test_stdlib_path_marker_naming_a_missing_folder),
        cmocka_unit_test(test_stdlib_path_marker_must_be_one_absolute_path),
        cmocka_unit_test(test_stdlib_path_marker_as_a_link_is_refused),
        cmocka_unit_test(test_stdlib_path_relative_executable_is_refused),
        cmocka_unit_test(test_stdlib_path_reads_the_running_executable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
