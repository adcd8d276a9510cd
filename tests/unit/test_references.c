/* Unit tests of the reference scanner (references.h): the ids of the
 * kpi_value("ID") calls of a formula text, comments and strings skipped,
 * uses that are not a call with a quoted literal counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "references.h"

/* The ids found, joined by '|'. */
static int join(void *ctx, const char *id, size_t len)
{
    char *out = ctx;
    size_t used = strlen(out);
    snprintf(out + used, 256 - used, "%s%.*s", used ? "|" : "", (int)len, id);
    return 0;
}

struct scan_case {
    const char *text;
    const char *ids; /* found, in text order, '|' between */
    size_t uses, not_literal;
};

static const struct scan_case cases[] = {
    {"kpi_value(\"1-1.regular\") * 2", "1-1.regular", 1, 0},
    {"kpi_value('A') + kpi_value( \"B\" ) - kpi_value 'C' + kpi_value\"D\"", "A|B|C|D", 4, 0},
    {"kpi_value('A') + kpi_value('A')", "A|A", 2, 0}, /* repeats are the caller's to fold */
    {"x -- kpi_value('A')", "", 0, 0},
    {"x --[[ kpi_value('A')\n kpi_value('B') ]] + kpi_value('C')", "C", 1, 0},
    {"x --[==[ ]] kpi_value('A') ]==] + 1", "", 0, 0},
    {"'kpi_value(\"A\")' .. \"kpi_value('B')\" .. [[kpi_value('C')]]", "", 0, 0},
    {"\"a \\\" kpi_value('A')\" .. kpi_value('B')", "B", 1, 0},
    {"\"x\" .. kpi_value('A')", "A", 1, 0},            /* after .., the function */
    {"t.kpi_value('A') + t:kpi_value('B')", "", 0, 0}, /* fields, not the function */
    {"_ENV.kpi_value('A')", "", 0, 0},
    {"my_kpi_value('A') + kpi_values('B')", "", 0, 0}, /* other names */
    {"kpi_value(id)", "", 1, 1},
    {"kpi_value('A' .. 'B')", "", 1, 1},
    {"kpi_value(('A'))", "", 1, 1},
    {"kpi_value('A\\x41')", "", 1, 1}, /* an escape: not plain */
    {"kpi_value([[A]])", "", 1, 1},
    {"local f = kpi_value; return f('A')", "", 1, 1},
    {"kpi_value", "", 1, 1},
    {"kpi_value('A', 'B')", "", 1, 1},
    {"kpi_value( -- the regular course\n 'A' )", "A", 1, 0},
    {"kpi_value('A", "", 1, 1}, /* unterminated */
};

static void test_references_scan_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ids[256] = "";
        struct kpi_refs_scan found;
        assert_int_equal(kpi_refs_scan(cases[i].text, &found, join, ids), 0);
        if (strcmp(ids, cases[i].ids) || found.uses != cases[i].uses ||
            found.not_literal != cases[i].not_literal)
            fail_msg("%s: ids '%s' uses %zu not literal %zu; expected '%s' %zu %zu", cases[i].text,
                     ids, found.uses, found.not_literal, cases[i].ids, cases[i].uses,
                     cases[i].not_literal);
    }
}

static int stop_at_second(void *ctx, const char *id, size_t len)
{
    int *seen = ctx;
    (void)id, (void)len;
    return ++*seen == 2 ? 7 : 0;
}

/* The callback's nonzero answer stops the scan and is returned. */
static void test_references_scan_stops(void **state)
{
    int seen = 0;
    struct kpi_refs_scan found;
    (void)state;
    assert_int_equal(kpi_refs_scan("kpi_value('A') + kpi_value('B') + kpi_value('C')", &found,
                                   stop_at_second, &seen),
                     7);
    assert_int_equal(seen, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_references_scan_cases),
        cmocka_unit_test(test_references_scan_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
