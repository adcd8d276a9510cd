#include "suggest.h"

#include <stdint.h>
#include <string.h>

size_t kpi_suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[KPI_SUGGEST_NAME_MAX + 1][KPI_SUGGEST_NAME_MAX + 1];

    if (la > KPI_SUGGEST_NAME_MAX || lb > KPI_SUGGEST_NAME_MAX)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

void kpi_suggestion_init(struct kpi_suggestion *s, const char *typed)
{
    s->typed = typed;
    s->nearest = NULL;
    s->distance = SIZE_MAX;
}

void kpi_suggestion_offer(struct kpi_suggestion *s, const char *candidate)
{
    size_t len = strlen(s->typed), clen = strlen(candidate);
    size_t most = len <= 4 ? 1 : len <= 8 ? 2 : 3;

    /* The lengths alone bound the distance from below: most candidates of
     * a large plan are passed over without the table. */
    if ((clen > len ? clen - len : len - clen) > most)
        return;
    size_t d = kpi_suggest_distance(s->typed, candidate);
    if (d > most || d == 0 || d > s->distance)
        return;
    if (d == s->distance && strcmp(candidate, s->nearest) >= 0)
        return;
    s->distance = d;
    s->nearest = candidate;
}
