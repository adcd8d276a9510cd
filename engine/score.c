#include "kpieval/score.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "text.h"

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
            /* better than any positive target: the best score */
            rate = cap < KPI_ACHIEVEMENT_MAX ? cap : KPI_ACHIEVEMENT_MAX;
        } else {
            rate = t / a * 100;
        }
        break;
    case KPI_SCORING_BASELINE:
        if (t == b) {
            rate = target_met(k, a) ? 100 : 0;
        } else {
            /* Differences of numbers near the largest double overflow
             * (1e308 - -1e308); halved they do not, and the ratio is the
             * same: (a - b) / (t - b) stays 1, not inf / inf. */
            double num = a - b, den = t - b;
            if (isinf(num) || isinf(den))
                num = a / 2 - b / 2, den = t / 2 - b / 2;
            rate = num / den * 100;
        }
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
    if (isnan(rate)) {
        fail(r, "cannot score: the achievement is not a finite number");
        return;
    }
    if (k->scoring == KPI_SCORING_EXPRESSION) {
        /* The expression's value is the achievement: beyond the bound it
         * is a mistake in the expression, not a score. */
        if (!(fabs(rate) <= KPI_ACHIEVEMENT_MAX)) {
            fail(r, "cannot score: the scoring expression's value is out of range (beyond "
                    "-1e9 to 1e9 percent)");
            return;
        }
    } else {
        /* The built-in rules are monotone in the actual: floored at 0 and
         * held at the bound as if computed exactly, so an overflow to
         * +-inf (a / t beyond the largest double) is the bound or 0, and
         * with any cap up to the bound the capped value is unchanged. */
        if (rate < 0)
            rate = 0;
        if (rate > KPI_ACHIEVEMENT_MAX)
            rate = KPI_ACHIEVEMENT_MAX;
    }
    r->achievement = rate;
    r->achievement_capped = rate < cap ? rate : cap;
}

double kpi_score_as_printed(double achievement)
{
    char buf[KPI_RATE_BUF];
    return strtod(kpi_text_format_rate(achievement, buf), NULL);
}

enum kpi_band kpi_score_band(const struct kpi_result *r)
{
    double printed;

    switch (r->status) {
    case KPI_STATUS_OK: break;
    case KPI_STATUS_MISSING: return KPI_BAND_NO_DATA;
    default: return KPI_BAND_ERROR;
    }
    printed = kpi_score_as_printed(r->achievement);
    return printed > 100 ? KPI_BAND_EXCEEDED : printed == 100 ? KPI_BAND_MET : KPI_BAND_BELOW;
}

const char *kpi_band_name(enum kpi_band band)
{
    static const char *const names[KPI_BAND_COUNT] = {"exceeded", "met", "below", "no data",
                                                      "error"};
    assert((unsigned)band < KPI_BAND_COUNT);
    return names[band];
}
