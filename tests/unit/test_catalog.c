/* Unit tests of catalog.c: each plugin's description from its first line,
 * the problems of a line that gives none, and shadowing across folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/catalog.h"
#include "scratch.h"

static void test_catalog_describes_and_shadows(void **state)
{
    (void)state;
    char root[SCRATCH_PATH_MAX], a[SCRATCH_PATH_MAX], b[SCRATCH_PATH_MAX];
    scratch_fresh_dir(root, "catalog");
    scratch_fresh_subdir(a, root, "a");
    scratch_fresh_subdir(b, root, "b");
    scratch_write_in(a, "ratio.lua", "-- ratio(part, whole): part of whole  \nreturn nil\n");
    scratch_write_in(a, "bare.lua", "return function() return 1 end\n");
    scratch_write_in(b, "ratio.lua", "--ratio(a, b):a over b\r\nreturn nil\n");
    scratch_write_in(b, "other.lua", "-- wrong(x): named for another file\n");
    scratch_write_in(b, "notes.txt", "-- not a plugin\n");
    const char *dirs[] = {a, b, "/nonexistent/kpieval"};
    kpi_catalog *c;
    struct kpi_error err;
    size_t n;

    assert_int_equal(kpi_catalog_new(dirs, 3, &c, &err), 0);
    const struct kpi_plugin_entry *e = kpi_catalog_entries(c, &n);
    assert_int_equal(n, 4); /* a: bare, ratio; b: other, ratio */
    assert_string_equal(e[0].name, "bare");
    assert_null(e[0].description);
    assert_string_equal(e[0].problem, "the first line is not a '-- NAME(PARAMS): WHAT' comment");
    assert_string_equal(e[1].name, "ratio");
    assert_string_equal(e[1].params, "part, whole");
    assert_string_equal(e[1].description, "part of whole");
    assert_int_equal(e[1].shadowed_by, 3);
    assert_string_equal(e[2].name, "other");
    assert_non_null(e[2].problem);
    assert_int_equal(e[2].folder, 1);
    assert_string_equal(e[3].params, "a, b");
    assert_string_equal(e[3].description, "a over b");
    assert_int_equal(e[3].shadowed_by, SIZE_MAX);
    kpi_catalog_free(c);
}

static void test_catalog_plugin_dir(void **state)
{
    (void)state;
    char root[SCRATCH_PATH_MAX], ds[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX],
        want[SCRATCH_PATH_MAX];
    scratch_fresh_dir(root, "catalog-dirs");
    scratch_dataset(ds, root, "plan", "id\n", "indicator\n");
    assert_true(kpi_catalog_plugin_dir(ds, out, sizeof out));
    assert_string_equal(out, scratch_join(want, ds, "formulas"));
    assert_true(kpi_catalog_plugin_dir(root, out, sizeof out));
    assert_string_equal(out, root);
    assert_false(kpi_catalog_plugin_dir(root, out, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_describes_and_shadows),
        cmocka_unit_test(test_catalog_plugin_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
