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

/* The largest achievement, in percent, of any rule. The built-in rules
 * are held within [0, KPI_ACHIEVEMENT_MAX]; a scoring expression whose
 * value lies outside [-KPI_ACHIEVEMENT_MAX, KPI_ACHIEVEMENT_MAX] makes the
 * KPI an error. With weights at most KPI_WEIGHT_MAX (1e9), each term of a
 * roll-up sum is then at most 1e18 in magnitude, so even 2^32 KPIs sum to
 * less than 5e27, far below the largest double (1.8e308): no department's
 * or the overall figure can overflow, and an achievement is empty only
 * without an ok KPI or with a total weight of 0. */
#define KPI_ACHIEVEMENT_MAX 1e9

/* Scores one evaluated KPI. When r->status is ok, sets r->achievement
 * (bounded as above) and r->achievement_capped = min(achievement, cap);
 * when the rule cannot score the value, or a scoring expression's value is
 * out of range, sets r->status to error and r->message to a static text.
 * The built-in rules give what exact arithmetic would: an intermediate
 * overflow does not decide the outcome. Rows that are not ok are left as
 * they are. */
void kpi_score(const struct kpi_indicator *k, struct kpi_result *r, double cap);

/* An achievement as the reports print it (two decimals, half away from
 * zero on its 15-significant-digit value), read back: what bands and
 * grades are decided on, so that what is printed and what is graded
 * always agree (a printed 90.00 reaches a band from 90). */
double kpi_score_as_printed(double achievement);

/* A KPI's band, what an evaluator reads first: from the achievement as
 * the reports print it (two decimals, uncapped), so a printed 100.00 is
 * always "met"; missing KPIs have no data, error and invalid ones are
 * errors. */
enum kpi_band { KPI_BAND_EXCEEDED, KPI_BAND_MET, KPI_BAND_BELOW, KPI_BAND_NO_DATA,
                KPI_BAND_ERROR };
#define KPI_BAND_COUNT 5

enum kpi_band kpi_score_band(const struct kpi_result *r);

/* "exceeded", "met", "below", "no data" or "error". */
const char *kpi_band_name(enum kpi_band band);

#endif
