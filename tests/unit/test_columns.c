/* Unit tests of engine/columns.c (columns.h): the one schema of KPI and
 * department rows. Each getter on a small report view built by hand gives
 * the cell type and value worked out beside it, and the CSV headers the
 * tables make are the ones docs/formats.md documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/columns.h"
#include "kpieval/report.h"
#include "kpieval/score.h"
#include "scratch.h"

/* ---- a small report view ----------------------------------------------- */

static const struct kpi_bad_cells fine = {NULL, NULL, NULL, NULL};
static const struct kpi_bad_cells unreadable = {NULL, "ten", "w", "down"};
static const struct kpi_input k1_inputs[] = {{"a", 13, 2}, {"b", 20, 3}};
static const char *const k1_extra[] = {"kim"};
static const char *const k2_extra[] = {""};
static const char *const k3_extra[] = {"lee"};
static const char *const extra_columns[] = {"owner"};

static const struct kpi_indicator kpis[] = {
    {.id = "K1", .name = "취업률", .department = "본부/과", .unit = "%",
     .formula = "a / b * 100", .extra = k1_extra, .inputs = k1_inputs, .bad = &fine,
     .baseline = 50, .target = 52, .weight = 2, .line = 2, .department_id = 1, .n_inputs = 2,
     .direction = KPI_DIRECTION_INCREASE, .scoring = KPI_SCORING_RATIO, .has_baseline = true},
    {.id = "K2", .name = "two", .department = "본부/과", .unit = "",
     .formula = "x", .scoring_text = "actual * 2", .extra = k2_extra,
     .invalid = "K2: target 'ten' is not a number", .bad = &unreadable,
     .target = 0, .weight = 1, .line = 3, .department_id = 1,
     .direction = KPI_DIRECTION_DECREASE, .scoring = KPI_SCORING_EXPRESSION},
    {.id = "K3", .name = "three", .department = "본부", .unit = "명", .formula = "y",
     .extra = k3_extra, .bad = &fine, .target = 10, .weight = 0.5, .line = 7,
     .department_id = 0, .direction = KPI_DIRECTION_INCREASE, .scoring = KPI_SCORING_BASELINE,
     .has_baseline = true, .baseline = 0},
};

static const struct kpi_result rows[] = {
    /* 13 / 20 * 100 = 65; 65 / 52 = 125 %, capped at 120 */
    {.actual = 65, .achievement = 125, .achievement_capped = 120, .status = KPI_STATUS_OK,
     .has_actual = true},
    {.message = "K2: target 'ten' is not a number", .status = KPI_STATUS_INVALID},
    /* an error row keeps stray numbers: the cells must still be empty */
    {.actual = 4, .achievement = 40, .achievement_capped = 40, .message = "K3: boom",
     .status = KPI_STATUS_ERROR, .has_actual = true},
};

static const struct kpi_department departments[] = {
    {"본부", "본부", KPI_NONE, 0, 0},
    {"본부/과", "과", 0, 1, 1},
};

static const struct kpi_department_summary summaries[] = {
    /* unscored: the invalid K2 at weight 1 (its weight is unreadable) and
     * the error K3 at 0.5; coverage 2 / 3.5 */
    {.kpis = 3, .count = {[KPI_STATUS_OK] = 1, [KPI_STATUS_ERROR] = 1, [KPI_STATUS_INVALID] = 1},
     .weight = 2, .weighted = 240, .unscored_weight = 1.5, .has_coverage = true,
     .coverage = 2 / 3.5, .has_achievement = true, .achievement = 120, .grade = "S"},
    /* every weight 0: no coverage, no achievement */
    {.kpis = 2, .count = {[KPI_STATUS_MISSING] = 2}, .weight = 0, .weighted = 0,
     .has_achievement = false, .achievement = 0, .grade = ""},
};

static const struct kpi_report report = {
    .kpis = kpis,
    .rows = rows,
    .n_kpis = 3,
    .departments = departments,
    .summaries = summaries,
    .n_departments = 2,
    .departments_total = 2,
    .overall = &summaries[0],
    .extra_columns = extra_columns,
    .n_extra_columns = 1,
};

/* ---- helpers ------------------------------------------------------------ */

static const struct kpi_column *column(const struct kpi_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cols[i].name, name))
            return &cols[i];
    fail_msg("no column '%s'", name);
    return NULL;
}

static struct kpi_cell cell;

static const struct kpi_cell *get_kpi(const struct kpi_report *rep, const char *name, size_t i)
{
    size_t n;
    const struct kpi_column *cols = kpi_columns_kpi(&n);
    const struct kpi_column *c = column(cols, n, name);
    memset(&cell, 0, sizeof cell);
    c->get(rep, i, c->arg, &cell);
    return &cell;
}

static const struct kpi_cell *get_dep(const char *name, size_t i)
{
    size_t n;
    const struct kpi_column *cols = kpi_columns_department(&n);
    const struct kpi_column *c = column(cols, n, name);
    memset(&cell, 0, sizeof cell);
    c->get(&report, i, c->arg, &cell);
    return &cell;
}

#define assert_cell_text(c, type_, s)                                                              \
    do {                                                                                           \
        const struct kpi_cell *c_ = (c);                                                           \
        assert_int_equal(c_->type, (type_));                                                       \
        assert_string_equal(c_->text, (s));                                                        \
    } while (0)

#define assert_cell_number(c, type_, x)                                                            \
    do {                                                                                           \
        const struct kpi_cell *c_ = (c);                                                           \
        assert_int_equal(c_->type, (type_));                                                       \
        assert_true(c_->number == (x));                                                            \
    } while (0)

#define assert_cell_count(c, n_)                                                                   \
    do {                                                                                           \
        const struct kpi_cell *c_ = (c);                                                           \
        assert_int_equal(c_->type, KPI_CELL_COUNT);                                                \
        assert_int_equal(c_->count, (n_));                                                         \
    } while (0)

/* "a,b,c": the names of the columns shown in format fmt. */
static void header(const struct kpi_column *cols, size_t n, unsigned fmt, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (cols[i].formats & fmt)
            o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "", cols[i].name);
    assert_true(o < size);
}

/* ---- tests -------------------------------------------------------------- */

/* docs/formats.md, "DIR/kpis.csv", "DIR/departments.csv" and
 * "DIR/report.json". */
static void test_columns_headers_are_the_documented_ones(void **state)
{
    char got[1024];
    size_t n;
    const struct kpi_column *k = kpi_columns_kpi(&n), *d;
    (void)state;

    header(k, n, KPI_COL_CSV, got, sizeof got);
    assert_string_equal(got, "id,name,department,unit,direction,baseline,target,formula,inputs,"
                             "actual,achievement,achievement_capped,band,weight,status,message,"
                             "columns");
    /* report.json: the same plus scoring, scoring_expression, input_lines,
     * depends_on (of composite KPIs only), if_missing, filled (under zero
     * only), unreadable, line and columns; nothing else. */
    header(k, n, KPI_COL_JSON, got, sizeof got);
    assert_string_equal(got, "id,name,department,unit,direction,baseline,target,formula,scoring,"
                             "scoring_expression,inputs,input_lines,depends_on,if_missing,filled,"
                             "actual,achievement,"
                             "achievement_capped,band,weight,unreadable,status,message,line,"
                             "columns");
    d = kpi_columns_department(&n);
    header(d, n, KPI_COL_CSV, got, sizeof got);
    assert_string_equal(got, "department,kpis,ok,missing,error,invalid,coverage,achievement,"
                             "grade,grade_note");
    header(d, n, KPI_COL_JSON, got, sizeof got);
    assert_string_equal(got, "department,parent,kpis,ok,missing,error,invalid,coverage,weight,"
                             "unscored_weight,achievement,grade,report");
    /* Every column is in some format, and every name once. */
    for (int t = 0; t < 2; t++) {
        const struct kpi_column *cols = t ? kpi_columns_department(&n) : kpi_columns_kpi(&n);
        for (size_t i = 0; i < n; i++) {
            assert_true(cols[i].formats & (KPI_COL_CSV | KPI_COL_JSON));
            assert_non_null(cols[i].get);
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(cols[i].name, cols[j].name);
        }
    }
}

static void test_columns_kpi_ok_row(void **state)
{
    (void)state;
    assert_cell_text(get_kpi(&report, "id", 0), KPI_CELL_TEXT, "K1");
    assert_cell_text(get_kpi(&report, "name", 0), KPI_CELL_TEXT, "취업률");
    assert_cell_text(get_kpi(&report, "department", 0), KPI_CELL_TEXT, "본부/과");
    assert_cell_text(get_kpi(&report, "unit", 0), KPI_CELL_TEXT, "%");
    assert_cell_text(get_kpi(&report, "direction", 0), KPI_CELL_WORD, "increase");
    assert_null(cell.as_written);
    assert_cell_number(get_kpi(&report, "baseline", 0), KPI_CELL_NUMBER, 50);
    assert_null(cell.as_written);
    assert_cell_number(get_kpi(&report, "target", 0), KPI_CELL_NUMBER, 52);
    assert_null(cell.as_written);
    assert_cell_text(get_kpi(&report, "formula", 0), KPI_CELL_TEXT, "a / b * 100");
    assert_cell_text(get_kpi(&report, "scoring", 0), KPI_CELL_WORD, "ratio");
    assert_int_equal(get_kpi(&report, "scoring_expression", 0)->type, KPI_CELL_ABSENT);
    assert_int_equal(get_kpi(&report, "inputs", 0)->type, KPI_CELL_INPUTS);
    assert_ptr_equal(cell.kpi, &kpis[0]);
    assert_int_equal(get_kpi(&report, "input_lines", 0)->type, KPI_CELL_LINES);
    assert_ptr_equal(cell.kpi, &kpis[0]);
    assert_cell_number(get_kpi(&report, "actual", 0), KPI_CELL_MEASURE, 65);
    assert_cell_number(get_kpi(&report, "achievement", 0), KPI_CELL_RATE, 125);
    assert_cell_number(get_kpi(&report, "achievement_capped", 0), KPI_CELL_RATE, 120);
    assert_cell_number(get_kpi(&report, "weight", 0), KPI_CELL_NUMBER, 2);
    assert_null(cell.as_written);
    /* Every cell was read: no "unreadable" key. */
    assert_int_equal(get_kpi(&report, "unreadable", 0)->type, KPI_CELL_ABSENT);
    assert_cell_text(get_kpi(&report, "status", 0), KPI_CELL_WORD, "ok");
    assert_cell_text(get_kpi(&report, "band", 0), KPI_CELL_WORD, "exceeded");
    assert_int_equal(get_kpi(&report, "message", 0)->type, KPI_CELL_NULL);
    assert_cell_count(get_kpi(&report, "line", 0), 2);
    assert_int_equal(get_kpi(&report, "columns", 0)->type, KPI_CELL_EXTRA);
    assert_ptr_equal(cell.kpi, &kpis[0]);
}

/* An invalid KPI with unreadable cells and an expression rule. */
static void test_columns_kpi_invalid_row_with_unreadable_cells(void **state)
{
    (void)state;
    assert_cell_text(get_kpi(&report, "unit", 1), KPI_CELL_TEXT, "");
    /* The direction "down" could not be read: the default word, and the
     * text as written for CSV. */
    assert_cell_text(get_kpi(&report, "direction", 1), KPI_CELL_WORD, "decrease");
    assert_string_equal(cell.as_written, "down");
    /* No baseline: null, nothing as written. */
    assert_int_equal(get_kpi(&report, "baseline", 1)->type, KPI_CELL_NULL);
    assert_null(cell.as_written);
    assert_int_equal(get_kpi(&report, "target", 1)->type, KPI_CELL_NUMBER);
    assert_string_equal(cell.as_written, "ten");
    assert_int_equal(get_kpi(&report, "weight", 1)->type, KPI_CELL_NUMBER);
    assert_string_equal(cell.as_written, "w");
    assert_cell_text(get_kpi(&report, "scoring", 1), KPI_CELL_WORD, "expression");
    assert_cell_text(get_kpi(&report, "scoring_expression", 1), KPI_CELL_TEXT, "actual * 2");
    assert_int_equal(get_kpi(&report, "actual", 1)->type, KPI_CELL_NULL);
    assert_int_equal(get_kpi(&report, "achievement", 1)->type, KPI_CELL_NULL);
    assert_int_equal(get_kpi(&report, "achievement_capped", 1)->type, KPI_CELL_NULL);
    assert_int_equal(get_kpi(&report, "unreadable", 1)->type, KPI_CELL_CELLS);
    assert_ptr_equal(cell.kpi, &kpis[1]);
    assert_cell_text(get_kpi(&report, "status", 1), KPI_CELL_WORD, "invalid");
    assert_cell_text(get_kpi(&report, "band", 1), KPI_CELL_WORD, "error");
    assert_cell_text(get_kpi(&report, "message", 1), KPI_CELL_TEXT,
                     "K2: target 'ten' is not a number");
    assert_cell_count(get_kpi(&report, "line", 1), 3);
}

/* An error row: its actual shows, its achievement does not, whatever
 * numbers the row holds. A baseline of 0 is a baseline. */
static void test_columns_kpi_error_row(void **state)
{
    (void)state;
    assert_cell_number(get_kpi(&report, "baseline", 2), KPI_CELL_NUMBER, 0);
    assert_cell_text(get_kpi(&report, "scoring", 2), KPI_CELL_WORD, "baseline");
    assert_int_equal(get_kpi(&report, "inputs", 2)->type, KPI_CELL_INPUTS);
    assert_cell_number(get_kpi(&report, "actual", 2), KPI_CELL_MEASURE, 4);
    assert_int_equal(get_kpi(&report, "achievement", 2)->type, KPI_CELL_NULL);
    assert_int_equal(get_kpi(&report, "achievement_capped", 2)->type, KPI_CELL_NULL);
    assert_cell_number(get_kpi(&report, "weight", 2), KPI_CELL_NUMBER, 0.5);
    assert_cell_text(get_kpi(&report, "status", 2), KPI_CELL_WORD, "error");
    assert_cell_text(get_kpi(&report, "band", 2), KPI_CELL_WORD, "error");
    assert_cell_text(get_kpi(&report, "message", 2), KPI_CELL_TEXT, "K3: boom");
    assert_cell_count(get_kpi(&report, "line", 2), 7);
    /* Without extra columns, "columns" is left out. */
    struct kpi_report plain = report;
    plain.n_extra_columns = 0;
    plain.extra_columns = NULL;
    assert_int_equal(get_kpi(&plain, "columns", 2)->type, KPI_CELL_ABSENT);
    /* The missing status's name. */
    struct kpi_result missing[3];
    memcpy(missing, rows, sizeof missing);
    missing[2].status = KPI_STATUS_MISSING;
    plain.rows = missing;
    assert_cell_text(get_kpi(&plain, "status", 2), KPI_CELL_WORD, "missing");
    assert_cell_text(get_kpi(&plain, "band", 2), KPI_CELL_WORD, "no data");
}

/* The band is read from the achievement as printed, two decimals half
 * away from zero: what shows as 100.00 is met, whatever lies behind it. */
static void test_columns_band_follows_the_printed_achievement(void **state)
{
    static const struct {
        double achievement;
        const char *band;
    } cases[] = {
        {125, "exceeded"},    {100.01, "exceeded"}, {100.005, "exceeded"}, /* prints 100.01 */
        {100.004999, "met"}, {100, "met"},           {99.995, "met"},       /* prints 100.00 */
        {99.994999, "below"}, {0, "below"},         {-5, "below"},
    };
    struct kpi_result r = {.status = KPI_STATUS_OK};
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.achievement = cases[i].achievement;
        r.achievement_capped = cases[i].achievement > 120 ? 120 : cases[i].achievement;
        assert_string_equal(kpi_band_name(kpi_score_band(&r)), cases[i].band);
    }
}

/* A department's file ends with its total row: the columns' total
 * getters, in the report's language. */
static void test_columns_total_row_of_a_department(void **state)
{
    size_t n;
    const struct kpi_column *cols = kpi_columns_kpi(&n);
    struct kpi_report_params params = {.lang = KPI_LANG_KO};
    struct kpi_grades grades = {.n = 0, .unscored = KPI_UNSCORED_ZERO};
    struct kpi_report ko = report;
    (void)state;

    params.grades = &grades;
    ko.params = &params;
    for (size_t i = 0; i < n; i++) {
        memset(&cell, 0, sizeof cell);
        if (!cols[i].total)
            continue;
        cols[i].total(&ko, 0, cols[i].arg, &cell);
        if (!strcmp(cols[i].name, "name")) {
            assert_cell_text(&cell, KPI_CELL_WORD, "(total)");
        } else if (!strcmp(cols[i].name, "department")) {
            assert_cell_text(&cell, KPI_CELL_TEXT, "본부");
        } else if (!strcmp(cols[i].name, "weight")) { /* scored 2 + unscored 1.5 */
            assert_cell_number(&cell, KPI_CELL_NUMBER, 3.5);
        } else if (!strcmp(cols[i].name, "achievement") ||
                   !strcmp(cols[i].name, "achievement_capped")) {
            assert_cell_number(&cell, KPI_CELL_RATE, 120);
        } else if (!strcmp(cols[i].name, "band")) { /* the department's grade */
            assert_cell_text(&cell, KPI_CELL_TEXT, "S");
        } else if (!strcmp(cols[i].name, "message")) {
            assert_cell_text(&cell, KPI_CELL_TEXT,
                             "부분평가: 지표 3개 중 1개 평가 (가중치 57.14%), 미평가 지표는 0점 반영");
        } else {
            fail_msg("unexpected total getter of '%s'", cols[i].name);
        }
    }
    /* Headers in Korean, kpieval's words only. */
    assert_string_equal(kpi_column_header(&ko, column(cols, n, "target")), "목표치");
    assert_string_equal(kpi_column_header(&report, column(cols, n, "target")), "target");
}

static void test_columns_department_rows(void **state)
{
    (void)state;
    /* 본부: top level, 3 KPIs (1 ok, 1 error, 1 invalid); the ok one's
     * capped 120 x weight 2 / weight 2 = 120 %, S. */
    assert_cell_text(get_dep("department", 0), KPI_CELL_TEXT, "본부");
    assert_int_equal(get_dep("parent", 0)->type, KPI_CELL_NULL);
    assert_cell_count(get_dep("kpis", 0), 3);
    assert_cell_count(get_dep("ok", 0), 1);
    assert_cell_count(get_dep("missing", 0), 0);
    assert_cell_count(get_dep("error", 0), 1);
    assert_cell_count(get_dep("invalid", 0), 1);
    assert_cell_number(get_dep("weight", 0), KPI_CELL_NUMBER, 2);
    assert_cell_number(get_dep("achievement", 0), KPI_CELL_RATE, 120);
    assert_cell_text(get_dep("grade", 0), KPI_CELL_TEXT, "S");
    /* coverage in percent: 2 / 3.5 = 57.142857...; the note next to the
     * grade says so, in English without parameters */
    assert_cell_number(get_dep("coverage", 0), KPI_CELL_RATE, 2 / 3.5 * 100);
    assert_cell_number(get_dep("unscored_weight", 0), KPI_CELL_NUMBER, 1.5);
    assert_cell_text(get_dep("grade_note", 0), KPI_CELL_TEXT,
                     "partial: 1 of 3 KPIs scored (57.14% of the weight), unscored counted as 0");
    /* Node 0 of the tree: file 001, its name kept. */
    assert_cell_text(get_dep("report", 0), KPI_CELL_TEXT, "departments/001-본부.csv");

    /* 본부/과: parent 본부, two missing KPIs, no achievement, no grade. */
    assert_cell_text(get_dep("department", 1), KPI_CELL_TEXT, "본부/과");
    assert_cell_text(get_dep("parent", 1), KPI_CELL_TEXT, "본부");
    assert_cell_count(get_dep("kpis", 1), 2);
    assert_cell_count(get_dep("ok", 1), 0);
    assert_cell_count(get_dep("missing", 1), 2);
    assert_cell_count(get_dep("error", 1), 0);
    assert_cell_count(get_dep("invalid", 1), 0);
    assert_cell_number(get_dep("weight", 1), KPI_CELL_NUMBER, 0);
    assert_int_equal(get_dep("achievement", 1)->type, KPI_CELL_NULL);
    assert_int_equal(get_dep("grade", 1)->type, KPI_CELL_NULL);
    assert_int_equal(get_dep("coverage", 1)->type, KPI_CELL_NULL);
    assert_int_equal(get_dep("grade_note", 1)->type, KPI_CELL_NULL);
    /* The file is named from the whole path, "/" made "_", and the node's number. */
    assert_cell_text(get_dep("report", 1), KPI_CELL_TEXT, "departments/002-본부_과.csv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_headers_are_the_documented_ones),
        cmocka_unit_test(test_columns_kpi_ok_row),
        cmocka_unit_test(test_columns_kpi_invalid_row_with_unreadable_cells),
        cmocka_unit_test(test_columns_kpi_error_row),
        cmocka_unit_test(test_columns_department_rows),
        cmocka_unit_test(test_columns_band_follows_the_printed_achievement),
        cmocka_unit_test(test_columns_total_row_of_a_department),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
