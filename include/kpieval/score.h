/*
 * score.h - turns a KPI's measured value into an achievement rate.
 *
 * Provides kpi_score(), the scoring rules of docs/formats.md (ratio by
 * direction, linear, baseline, binary, expression) with every edge case
 * decided, and kpi_score_cap(). Relies on the dataset model and the
 * evaluation results; pure arithmetic, no Lua, no allocation.
 */
#ifndef KPIEVAL_SCORE_H
#define KPIEVAL_SCORE_H

#include "kpieval/dataset.h"
#include "kpieval/evaluate.h"

#define KPI_DEFAULT_CAP 120.0

/* Scores one evaluated KPI. When r->status is ok, sets r->achievement and
 * r->achievement_capped = min(achievement, cap); when the rule cannot score
 * the value, sets r->status to error and r->message to a static text.
 * Rows that are not ok are left as they are. */
void kpi_score(const struct kpi_indicator *k, struct kpi_result *r, double cap);

#endif
