/* Unit tests of the formula name reader (engine/lua_names.c): which names
 * a formula reads from its environment, where, and whether it calls them.
 * The expected lists are written out by hand from the Lua 5.4 grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lua_names.h"

/* The uses as "name@offset" (with "()" after a called name, and the
 * literal argument as "name('arg')"), joined by ' '. */
struct uses {
    const char *text;
    char out[512];
};

static void collect(void *ctx, const struct kpi_lua_name *use)
{
    struct uses *u = ctx;
    size_t len = strlen(u->out);
    snprintf(u->out + len, sizeof u->out - len, "%s%s@%zu%s", len ? " " : "", use->name,
             use->offset, use->call ? "()" : "");
    if (use->literal_arg) {
        len = strlen(u->out);
        snprintf(u->out + len, sizeof u->out - len, "'%.*s'", (int)use->arg_len,
                 u->text + use->arg_offset);
    }
}

static const char *names_of(struct uses *u, const char *text)
{
    u->text = text;
    u->out[0] = '\0';
    assert_int_equal(kpi_lua_names(text, collect, u), 0);
    return u->out;
}

static void test_lua_names_expression(void **state)
{
    struct uses u;
    (void)state;
    /* r a t i o ( e m p l o y e d ,   e l i g i b l e )
     * 0         6                15  */
    assert_string_equal(names_of(&u, "ratio(employed, eligible)"),
                        "ratio@0() employed@6 eligible@16");
    assert_string_equal(names_of(&u, "a / b * 100"), "a@0 b@4");
    /* fields after '.' and ':' are no names; math is */
    assert_string_equal(names_of(&u, "math.max(x, kpi.target) + s:len()"),
                        "math@0 x@9 kpi@12 s@26");
    /* every use, not only the first */
    assert_string_equal(names_of(&u, "a + a"), "a@0 a@4");
}

static void test_lua_names_skips_strings_comments_keywords(void **state)
{
    struct uses u;
    (void)state;
    assert_string_equal(names_of(&u, "x -- y z\n+ 'w' .. \"v\\\"u\" .. [[t]] .. [==[s]]==]"),
                        "x@0");
    assert_string_equal(names_of(&u, "--[[ a\nb ]] c"), "c@12");
    assert_string_equal(names_of(&u, "n > 0 and true or nil"), "n@0");
    /* numbers, exponents and hex are no names */
    assert_string_equal(names_of(&u, "1e-5 + 0x1F + 3.5e2 + .5 + q"), "q@27");
}

static void test_lua_names_declarations(void **state)
{
    struct uses u;
    (void)state;
    /* locals, parameters and loop variables are declared; the table key
     * is no name; the loop bound is */
    assert_string_equal(names_of(&u, "local r = a / b return r"), "a@10 b@14");
    assert_string_equal(
        names_of(&u, "(function(p, q) return p + q + z end)(1, 2)"), "z@31");
    assert_string_equal(names_of(&u, "local t = {k = v} for i = 1, n do t[i] = i end return t"),
                        "v@15 n@29");
    assert_string_equal(names_of(&u, "for k, v in pairs(xs) do end return 1"),
                        "pairs@12() xs@18");
    assert_string_equal(names_of(&u, "local c <const> = d return c"), "d@18");
}

static void test_lua_names_calls_and_literals(void **state)
{
    struct uses u;
    (void)state;
    assert_string_equal(names_of(&u, "kpi_value(\"1-1.regular\") * 2"),
                        "kpi_value@0()'1-1.regular'");
    assert_string_equal(names_of(&u, "f'x' + g{1} + h (y)"), "f@0()'x' g@7() h@14() y@17");
    assert_true(kpi_lua_name_is_called("ratoi(a, b)", "ratoi"));
    assert_false(kpi_lua_name_is_called("ratoi + 1", "ratoi"));
    assert_false(kpi_lua_name_is_called("t.ratoi(1)", "ratoi"));
}

static void test_lua_names_unterminated(void **state)
{
    struct uses u;
    (void)state;
    /* what does not compile is still read to its end, without overrun */
    assert_string_equal(names_of(&u, "a + 'b"), "a@0");
    assert_string_equal(names_of(&u, "a --[[ b"), "a@0");
    assert_string_equal(names_of(&u, "[==[ x"), "");
    assert_string_equal(names_of(&u, ""), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lua_names_expression),
        cmocka_unit_test(test_lua_names_skips_strings_comments_keywords),
        cmocka_unit_test(test_lua_names_declarations),
        cmocka_unit_test(test_lua_names_calls_and_literals),
        cmocka_unit_test(test_lua_names_unterminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
