#include "kpieval/columns.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kpieval/score.h"
#include "missing.h"
#include "text.h"
#include "words.h"

const char *kpi_column_header(const struct kpi_report *rep, const struct kpi_column *col)
{
    return kpi_word(rep->params ? rep->params->lang : KPI_LANG_EN, col->name);
}

/* ---- KPI rows ----------------------------------------------------------- */

static const struct kpi_indicator *kpi_at(const struct kpi_report *rep, size_t i)
{
    return &rep->kpis[i];
}

static void text(struct kpi_cell *c, const char *s)
{
    c->type = KPI_CELL_TEXT;
    c->text = s;
}

static void word(struct kpi_cell *c, const char *s)
{
    c->type = KPI_CELL_WORD;
    c->text = s;
}

static void number_if(struct kpi_cell *c, int present, enum kpi_cell_type type, double x)
{
    c->type = present ? type : KPI_CELL_NULL;
    c->number = x;
}

static void count(struct kpi_cell *c, unsigned long long n)
{
    c->type = KPI_CELL_COUNT;
    c->count = n;
}

static void get_id(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    text(c, kpi_at(rep, i)->id);
}

static void get_name(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    text(c, kpi_at(rep, i)->name);
}

static void get_department(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    text(c, kpi_at(rep, i)->department);
}

static void get_unit(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    text(c, kpi_at(rep, i)->unit);
}

static void get_direction(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    word(c, k->direction == KPI_DIRECTION_DECREASE ? "decrease" : "increase");
    c->as_written = k->bad->direction;
}

static void get_baseline(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    number_if(c, k->has_baseline, KPI_CELL_NUMBER, k->baseline);
    c->as_written = k->bad->baseline;
}

static void get_target(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    number_if(c, 1, KPI_CELL_NUMBER, k->target);
    c->as_written = k->bad->target;
}

static void get_formula(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    text(c, kpi_at(rep, i)->formula);
}

static void get_scoring(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    static const char *const names[] = {
        [KPI_SCORING_RATIO] = "ratio",       [KPI_SCORING_LINEAR] = "linear",
        [KPI_SCORING_BASELINE] = "baseline", [KPI_SCORING_BINARY] = "binary",
        [KPI_SCORING_EXPRESSION] = "expression",
    };
    (void)arg;
    word(c, names[kpi_at(rep, i)->scoring]);
}

static void get_scoring_expression(const struct kpi_report *rep, size_t i, int arg,
                                   struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    if (k->scoring == KPI_SCORING_EXPRESSION)
        text(c, k->scoring_text);
    else
        c->type = KPI_CELL_ABSENT;
}

static void get_inputs(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    c->type = KPI_CELL_INPUTS;
    c->kpi = kpi_at(rep, i);
    c->row = i;
}

static void get_depends_on(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    c->kpi = kpi_at(rep, i);
    c->type = c->kpi->n_deps ? KPI_CELL_DEPENDS : KPI_CELL_ABSENT;
}

const char *kpi_column_dependency(const struct kpi_report *rep, size_t i, unsigned j, char *buf,
                                  size_t size)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    size_t at = rep->find ? rep->find(rep, k->deps[j]) : SIZE_MAX;
    const struct kpi_result *r = at < rep->n_kpis ? &rep->rows[at] : NULL;
    char num[KPI_NUMBER_BUF];

    assert(j < k->n_deps);
    if (r && r->status == KPI_STATUS_OK && r->has_actual)
        snprintf(buf, size, "kpi_value('%s')=%s", k->deps[j],
                 kpi_text_format_number(r->actual, num));
    else /* the status as the status column shows it, in the report's language */
        snprintf(buf, size, "kpi_value('%s')=(%s)", k->deps[j],
                 kpi_word(rep->params ? rep->params->lang : KPI_LANG_EN,
                          r ? kpi_status_name(r->status) : "not in this report"));
    return buf;
}

/* The cells of kind `type` that carry the indicator itself. */
static void whole_kpi(const struct kpi_report *rep, size_t i, int type, struct kpi_cell *c)
{
    c->type = (enum kpi_cell_type)type;
    c->kpi = kpi_at(rep, i);
}

static void get_unreadable(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    c->type = k->bad->baseline || k->bad->target || k->bad->weight || k->bad->direction
                  ? KPI_CELL_CELLS
                  : KPI_CELL_ABSENT;
    c->kpi = k;
}

const char *kpi_column_unreadable(const struct kpi_indicator *k, size_t i, const char **name)
{
    static const char *const names[KPI_UNREADABLE_CELLS] = {"baseline", "target", "weight",
                                                            "direction"};
    const char *cells[KPI_UNREADABLE_CELLS] = {k->bad->baseline, k->bad->target, k->bad->weight,
                                               k->bad->direction};
    assert(i < KPI_UNREADABLE_CELLS);
    *name = names[i];
    return cells[i];
}

static void get_extra(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    c->type = rep->n_extra_columns ? KPI_CELL_EXTRA : KPI_CELL_ABSENT;
    c->kpi = kpi_at(rep, i);
}

/* Only for a KPI under a policy other than the default, so that reports
 * of datasets without the column stay as they were. */
static void get_if_missing(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    if (k->if_missing == KPI_IF_MISSING_MISSING)
        c->type = KPI_CELL_ABSENT;
    else
        text(c, kpi_missing_name((enum kpi_if_missing)k->if_missing));
}

static void get_filled(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    c->type = kpi_missing_count(k) ? KPI_CELL_FILLED : KPI_CELL_ABSENT;
    c->kpi = k;
}

static void get_actual(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_result *r = &rep->rows[i];
    (void)arg;
    number_if(c, r->has_actual, KPI_CELL_MEASURE, r->actual);
}

static void get_achievement(const struct kpi_report *rep, size_t i, int capped,
                            struct kpi_cell *c)
{
    const struct kpi_result *r = &rep->rows[i];
    number_if(c, r->status == KPI_STATUS_OK, KPI_CELL_RATE,
              capped ? r->achievement_capped : r->achievement);
}

static void get_weight(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_indicator *k = kpi_at(rep, i);
    (void)arg;
    number_if(c, 1, KPI_CELL_NUMBER, k->weight);
    c->as_written = k->bad->weight;
}

static void get_status(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    word(c, kpi_status_name(rep->rows[i].status));
}

static void get_message(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const char *m = rep->rows[i].message;
    (void)arg;
    if (m)
        text(c, m);
    else
        c->type = KPI_CELL_NULL;
}

static void get_band(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    word(c, kpi_band_name(kpi_score_band(&rep->rows[i])));
}

/* ---- the total row of a department's file ------------------------------ */

static void total_name(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)rep, (void)i, (void)arg;
    word(c, "(total)");
}

static void total_department(const struct kpi_report *rep, size_t i, int arg,
                             struct kpi_cell *c)
{
    (void)arg;
    text(c, rep->departments[i].path);
}

static void total_weight(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_department_summary *s = &rep->summaries[i];
    (void)arg;
    number_if(c, 1, KPI_CELL_NUMBER, s->weight + s->unscored_weight);
}

static void get_department_achievement(const struct kpi_report *rep, size_t i, int arg,
                                       struct kpi_cell *c);
static void get_grade(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c);
static void get_grade_note(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c);

static void get_line(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    count(c, kpi_at(rep, i)->line);
}

static const struct kpi_column kpi_table[] = {
    {"id", KPI_COL_CSV | KPI_COL_JSON, get_id, 0, NULL},
    {"name", KPI_COL_CSV | KPI_COL_JSON, get_name, 0, total_name},
    {"department", KPI_COL_CSV | KPI_COL_JSON, get_department, 0, total_department},
    {"unit", KPI_COL_CSV | KPI_COL_JSON, get_unit, 0, NULL},
    {"direction", KPI_COL_CSV | KPI_COL_JSON, get_direction, 0, NULL},
    {"baseline", KPI_COL_CSV | KPI_COL_JSON, get_baseline, 0, NULL},
    {"target", KPI_COL_CSV | KPI_COL_JSON, get_target, 0, NULL},
    {"formula", KPI_COL_CSV | KPI_COL_JSON, get_formula, 0, NULL},
    {"scoring", KPI_COL_JSON, get_scoring, 0, NULL},
    {"scoring_expression", KPI_COL_JSON, get_scoring_expression, 0, NULL},
    {"inputs", KPI_COL_CSV | KPI_COL_JSON, get_inputs, 0, NULL},
    {"input_lines", KPI_COL_JSON, whole_kpi, KPI_CELL_LINES, NULL},
    {"depends_on", KPI_COL_JSON, get_depends_on, 0, NULL},
    {"if_missing", KPI_COL_JSON, get_if_missing, 0, NULL},
    {"filled", KPI_COL_JSON, get_filled, 0, NULL},
    {"actual", KPI_COL_CSV | KPI_COL_JSON, get_actual, 0, NULL},
    {"achievement", KPI_COL_CSV | KPI_COL_JSON, get_achievement, 0, get_department_achievement},
    {"achievement_capped", KPI_COL_CSV | KPI_COL_JSON, get_achievement, 1,
     get_department_achievement},
    {"band", KPI_COL_CSV | KPI_COL_JSON, get_band, 0, get_grade},
    {"weight", KPI_COL_CSV | KPI_COL_JSON, get_weight, 0, total_weight},
    {"unreadable", KPI_COL_JSON, get_unreadable, 0, NULL},
    {"status", KPI_COL_CSV | KPI_COL_JSON, get_status, 0, NULL},
    {"message", KPI_COL_CSV | KPI_COL_JSON, get_message, 0, get_grade_note},
    {"line", KPI_COL_JSON, get_line, 0, NULL},
    {"columns", KPI_COL_CSV | KPI_COL_JSON | KPI_COL_SPREAD, get_extra, 0, NULL},
};

const struct kpi_column *kpi_columns_kpi(size_t *n)
{
    *n = sizeof kpi_table / sizeof kpi_table[0];
    return kpi_table;
}

/* ---- department rows ---------------------------------------------------- */

static const struct kpi_department *department_at(const struct kpi_report *rep, size_t i)
{
    return &rep->departments[i];
}

static void get_path(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    text(c, department_at(rep, i)->path);
}

static void get_parent(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_department *d = department_at(rep, i);
    (void)arg;
    if (d->parent == KPI_NONE)
        c->type = KPI_CELL_NULL;
    else
        text(c, department_at(rep, d->parent)->path);
}

static void get_kpis(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    count(c, rep->summaries[i].kpis);
}

static void get_count(const struct kpi_report *rep, size_t i, int status, struct kpi_cell *c)
{
    count(c, rep->summaries[i].count[status]);
}

static void get_total_weight(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    number_if(c, 1, KPI_CELL_NUMBER, rep->summaries[i].weight);
}

static void get_department_achievement(const struct kpi_report *rep, size_t i, int arg,
                                       struct kpi_cell *c)
{
    const struct kpi_department_summary *s = &rep->summaries[i];
    (void)arg;
    number_if(c, s->has_achievement, KPI_CELL_RATE, s->achievement);
}

static void get_grade(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_department_summary *s = &rep->summaries[i];
    (void)arg;
    if (s->has_achievement)
        text(c, s->grade);
    else
        c->type = KPI_CELL_NULL;
}

static void get_coverage(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_department_summary *s = &rep->summaries[i];
    (void)arg;
    number_if(c, s->has_coverage, KPI_CELL_RATE, s->coverage * 100);
}

static void get_unscored_weight(const struct kpi_report *rep, size_t i, int arg,
                                struct kpi_cell *c)
{
    (void)arg;
    number_if(c, 1, KPI_CELL_NUMBER, rep->summaries[i].unscored_weight);
}

/* Next to a grade given on less than full coverage: how much was scored
 * and how the rest counted. */
static void get_grade_note(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_department_summary *s = &rep->summaries[i];
    bool ko = rep->params && rep->params->lang == KPI_LANG_KO;
    bool skip = rep->params && rep->params->grades->unscored == KPI_UNSCORED_SKIP;
    char rate[KPI_RATE_BUF];
    (void)arg;
    if (!s->has_coverage || s->unscored_weight == 0) {
        c->type = KPI_CELL_NULL;
        return;
    }
    kpi_text_format_rate(s->coverage * 100, rate);
    if (ko)
        snprintf(c->scratch, sizeof c->scratch,
                 "부분평가: 지표 %u개 중 %u개 평가 (가중치 %s%%), 미평가 지표는 %s",
                 s->kpis, s->count[KPI_STATUS_OK], rate, skip ? "제외" : "0점 반영");
    else
        snprintf(c->scratch, sizeof c->scratch,
                 "partial: %u of %u KPIs scored (%s%% of the weight), unscored %s",
                 s->count[KPI_STATUS_OK], s->kpis, rate,
                 skip ? "left out" : "counted as 0");
    text(c, c->scratch);
}

static void get_report_file(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    static const char dir[] = "departments/";
    (void)arg;
    memcpy(c->scratch, dir, sizeof dir);
    kpi_report_department_file(department_at(rep, i), department_at(rep, i)->number,
                               c->scratch + sizeof dir - 1, sizeof c->scratch - (sizeof dir - 1));
    text(c, c->scratch);
}

static const struct kpi_column department_table[] = {
    {"department", KPI_COL_CSV | KPI_COL_JSON, get_path, 0, NULL},
    {"parent", KPI_COL_JSON, get_parent, 0, NULL},
    {"kpis", KPI_COL_CSV | KPI_COL_JSON, get_kpis, 0, NULL},
    {"ok", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_OK, NULL},
    {"missing", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_MISSING, NULL},
    {"error", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_ERROR, NULL},
    {"invalid", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_INVALID, NULL},
    {"coverage", KPI_COL_CSV | KPI_COL_JSON, get_coverage, 0, NULL},
    {"weight", KPI_COL_JSON, get_total_weight, 0, NULL},
    {"unscored_weight", KPI_COL_JSON, get_unscored_weight, 0, NULL},
    {"achievement", KPI_COL_CSV | KPI_COL_JSON, get_department_achievement, 0, NULL},
    {"grade", KPI_COL_CSV | KPI_COL_JSON, get_grade, 0, NULL},
    {"grade_note", KPI_COL_CSV, get_grade_note, 0, NULL},
    {"report", KPI_COL_JSON, get_report_file, 0, NULL},
};

const struct kpi_column *kpi_columns_department(size_t *n)
{
    *n = sizeof department_table / sizeof department_table[0];
    return department_table;
}
