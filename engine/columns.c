#include "kpieval/columns.h"

#include <string.h>

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

static void get_extra(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    c->type = rep->n_extra_columns ? KPI_CELL_EXTRA : KPI_CELL_ABSENT;
    c->kpi = kpi_at(rep, i);
}

static void get_actual(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    const struct kpi_result *r = &rep->rows[i];
    (void)arg;
    number_if(c, r->has_actual, KPI_CELL_NUMBER, r->actual);
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

static void get_line(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *c)
{
    (void)arg;
    count(c, kpi_at(rep, i)->line);
}

static const struct kpi_column kpi_table[] = {
    {"id", KPI_COL_CSV | KPI_COL_JSON, get_id, 0},
    {"name", KPI_COL_CSV | KPI_COL_JSON, get_name, 0},
    {"department", KPI_COL_CSV | KPI_COL_JSON, get_department, 0},
    {"unit", KPI_COL_CSV | KPI_COL_JSON, get_unit, 0},
    {"direction", KPI_COL_CSV | KPI_COL_JSON, get_direction, 0},
    {"baseline", KPI_COL_CSV | KPI_COL_JSON, get_baseline, 0},
    {"target", KPI_COL_CSV | KPI_COL_JSON, get_target, 0},
    {"formula", KPI_COL_CSV | KPI_COL_JSON, get_formula, 0},
    {"scoring", KPI_COL_JSON, get_scoring, 0},
    {"scoring_expression", KPI_COL_JSON, get_scoring_expression, 0},
    {"inputs", KPI_COL_CSV | KPI_COL_JSON, whole_kpi, KPI_CELL_INPUTS},
    {"input_lines", KPI_COL_JSON, whole_kpi, KPI_CELL_LINES},
    {"actual", KPI_COL_CSV | KPI_COL_JSON, get_actual, 0},
    {"achievement", KPI_COL_CSV | KPI_COL_JSON, get_achievement, 0},
    {"achievement_capped", KPI_COL_CSV | KPI_COL_JSON, get_achievement, 1},
    {"weight", KPI_COL_CSV | KPI_COL_JSON, get_weight, 0},
    {"unreadable", KPI_COL_JSON, get_unreadable, 0},
    {"status", KPI_COL_CSV | KPI_COL_JSON, get_status, 0},
    {"message", KPI_COL_CSV | KPI_COL_JSON, get_message, 0},
    {"line", KPI_COL_JSON, get_line, 0},
    {"columns", KPI_COL_JSON, get_extra, 0},
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
    {"department", KPI_COL_CSV | KPI_COL_JSON, get_path, 0},
    {"parent", KPI_COL_JSON, get_parent, 0},
    {"kpis", KPI_COL_CSV | KPI_COL_JSON, get_kpis, 0},
    {"ok", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_OK},
    {"missing", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_MISSING},
    {"error", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_ERROR},
    {"invalid", KPI_COL_CSV | KPI_COL_JSON, get_count, KPI_STATUS_INVALID},
    {"weight", KPI_COL_JSON, get_total_weight, 0},
    {"achievement", KPI_COL_CSV | KPI_COL_JSON, get_department_achievement, 0},
    {"grade", KPI_COL_CSV | KPI_COL_JSON, get_grade, 0},
    {"report", KPI_COL_JSON, get_report_file, 0},
};

const struct kpi_column *kpi_columns_department(size_t *n)
{
    *n = sizeof department_table / sizeof department_table[0];
    return department_table;
}
