#include "kpieval/score.h"

#include <math.h>
#include <stdbool.h>

static bool target_met(const struct kpi_indicator *k, double actual)
{
    return k->direction == KPI_DIRECTION_DECREASE ? actual <= k->target : actual >= k->target;
}

static void fail(struct kpi_result *r, const char *message)
{
    r->status = KPI_STATUS_ERROR;
    r->message = message;
}

void kpi_score(const struct kpi_indicator *k, struct kpi_result *r, double cap)
{
    double a = r->actual, t = k->target, b = k->baseline, rate = 0;
    bool decrease = k->direction == KPI_DIRECTION_DECREASE;

    if (r->status != KPI_STATUS_OK)
        return;
    switch (k->scoring) {
    case KPI_SCORING_RATIO:
    case KPI_SCORING_LINEAR:
        if (t < 0) {
            fail(r, "cannot score: the target is negative, and ratio rules need a target >= 0; "
                    "use scoring 'baseline' or an expression");
            return;
        }
        if (t == 0) {
            rate = target_met(k, a) ? 100 : 0;
        } else if (!decrease) {
            rate = a / t * 100;
        } else if (k->scoring == KPI_SCORING_LINEAR) {
            rate = (2 - a / t) * 100;
        } else if (a < 0) {
            fail(r, "cannot score: the actual is negative, and the decrease ratio "
                    "(target / actual) needs an actual >= 0; use scoring 'linear', "
                    "'baseline' or an expression");
            return;
        } else if (a == 0) {
            rate = cap; /* better than any positive target: the best score */
        } else {
            rate = t / a * 100;
        }
        break;
    case KPI_SCORING_BASELINE:
        if (t == b)
            rate = target_met(k, a) ? 100 : 0;
        else
            rate = (a - b) / (t - b) * 100;
        break;
    case KPI_SCORING_BINARY:
        rate = target_met(k, a) ? 100 : 0;
        break;
    case KPI_SCORING_EXPRESSION:
        if (!r->has_score_value) {
            fail(r, "cannot score: the scoring expression gave no value");
            return;
        }
        rate = r->score_value;
        break;
    }
    if (!isfinite(rate)) {
        fail(r, "cannot score: the achievement is not a finite number");
        return;
    }
    if (k->scoring != KPI_SCORING_EXPRESSION && rate < 0)
        rate = 0;
    r->achievement = rate;
    r->achievement_capped = rate < cap ? rate : cap;
}
