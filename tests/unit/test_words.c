/* Unit tests of engine/words.c: the words of the reports in each language.
 * The table is searched, so it must stay sorted as rows are added; every
 * word kpieval writes as a KPI_CELL_WORD or a header has a translation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/columns.h"
#include "kpieval/result.h"
#include "kpieval/score.h"
#include "words.h"

static void test_words_table_is_sorted(void **state)
{
    (void)state;
    assert_non_null(kpi_words_english(0));
    for (size_t i = 1; kpi_words_english(i); i++)
        if (strcmp(kpi_words_english(i - 1), kpi_words_english(i)) >= 0)
            fail_msg("'%s' before '%s'", kpi_words_english(i - 1), kpi_words_english(i));
}

/* English is the key: nothing changes. A word not in the table shows in
 * English rather than as nothing. */
static void test_words_english_and_unknown(void **state)
{
    (void)state;
    assert_string_equal(kpi_word(KPI_LANG_EN, "missing"), "missing");
    assert_string_equal(kpi_word(KPI_LANG_KO, "no such word"), "no such word");
    assert_string_equal(kpi_word(KPI_LANG_KO, "missing"), "자료없음");
    assert_string_equal(kpi_word(KPI_LANG_KO, "exceeded"), "초과달성");
}

/* Every status, band and column header has its Korean form. */
static void test_words_every_word_written_is_translated(void **state)
{
    size_t n;
    const struct kpi_column *cols;
    (void)state;
    for (int s = 0; s < KPI_STATUS_COUNT; s++)
        assert_string_not_equal(kpi_word(KPI_LANG_KO, kpi_status_name((enum kpi_status)s)),
                                kpi_status_name((enum kpi_status)s));
    for (int b = 0; b < KPI_BAND_COUNT; b++)
        assert_string_not_equal(kpi_word(KPI_LANG_KO, kpi_band_name((enum kpi_band)b)),
                                kpi_band_name((enum kpi_band)b));
    for (int t = 0; t < 2; t++) {
        cols = t ? kpi_columns_department(&n) : kpi_columns_kpi(&n);
        for (size_t i = 0; i < n; i++) {
            if (!(cols[i].formats & KPI_COL_CSV) || (cols[i].formats & KPI_COL_SPREAD))
                continue; /* JSON keys stay English; spread columns are the plan's */
            if (!strcmp(kpi_word(KPI_LANG_KO, cols[i].name), cols[i].name))
                fail_msg("column '%s' has no Korean header", cols[i].name);
        }
    }
    assert_string_equal(kpi_word(KPI_LANG_KO, "increase"), "증가");
    assert_string_equal(kpi_word(KPI_LANG_KO, "decrease"), "감소");
}

static void test_words_lang_names(void **state)
{
    enum kpi_lang lang = KPI_LANG_EN;
    struct kpi_error err = {0};
    (void)state;
    assert_int_equal(kpi_lang_parse("ko", &lang, &err), 0);
    assert_int_equal(lang, KPI_LANG_KO);
    assert_string_equal(kpi_lang_name(lang), "ko");
    assert_int_equal(kpi_lang_parse("kr", &lang, &err), KPI_EUSAGE);
    assert_string_equal(err.setting, KPI_SETTING_LANG);
    assert_int_equal(lang, KPI_LANG_KO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_table_is_sorted),
        cmocka_unit_test(test_words_english_and_unknown),
        cmocka_unit_test(test_words_every_word_written_is_translated),
        cmocka_unit_test(test_words_lang_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
