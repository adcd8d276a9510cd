#include "suggest.h"

#include <assert.h>
#include <string.h>

size_t kpi_suggest_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[KPI_SUGGEST_NAME_MAX + 1][KPI_SUGGEST_NAME_MAX + 1];

    assert(la <= KPI_SUGGEST_NAME_MAX && lb <= KPI_SUGGEST_NAME_MAX);
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

void kpi_suggest_init(struct kpi_suggest *s, const char *typed, size_t typed_len, bool prefixes)
{
    s->typed = typed;
    s->typed_len = typed_len;
    s->prefixes = prefixes;
    s->prefix_of = 0;
    s->best_distance = (size_t)-1;
    s->prefix_name = s->nearest = NULL;
    s->nearest_skip = 0;
}

void kpi_suggest_offer(struct kpi_suggest *s, const char *candidate, size_t skip)
{
    const char *bare = candidate + skip;
    size_t len = s->typed_len, blen = strlen(bare);

    if (!len || len > KPI_SUGGEST_NAME_MAX || blen > KPI_SUGGEST_NAME_MAX)
        return;
    if (s->prefixes && blen > len && !memcmp(bare, s->typed, len)) {
        s->prefix_of++;
        s->prefix_name = candidate;
    }
    /* the lengths alone bound the distance from below: most candidates
     * of a large plan are passed over without the table */
    if ((blen > len ? blen - len : len - blen) > KPI_SUGGEST_DISTANCE)
        return;
    size_t d = kpi_suggest_distance(s->typed, len, bare, blen);
    if (d > KPI_SUGGEST_DISTANCE || 2 * d > len || d > s->best_distance)
        return;
    /* a tie goes to the first in byte order, whatever the order offered */
    if (d == s->best_distance && strcmp(bare, s->nearest + s->nearest_skip) >= 0)
        return;
    s->best_distance = d;
    s->nearest = candidate;
    s->nearest_skip = skip;
}

bool kpi_suggest_near(const struct kpi_suggest *s, const char *candidate)
{
    size_t len = s->typed_len, blen = strlen(candidate);

    if (!len || len > KPI_SUGGEST_NAME_MAX || blen > KPI_SUGGEST_NAME_MAX ||
        (blen > len ? blen - len : len - blen) > KPI_SUGGEST_DISTANCE)
        return false;
    size_t d = kpi_suggest_distance(s->typed, len, candidate, blen);
    return d <= KPI_SUGGEST_DISTANCE && 2 * d <= len;
}

const char *kpi_suggest_pick(const struct kpi_suggest *s)
{
    if (s->prefix_of == 1)
        return s->prefix_name;
    return s->prefix_of ? NULL : s->nearest;
}

void kpi_suggest_offer_list(struct kpi_suggest *s, const char *list, const char *seps)
{
    char name[KPI_SUGGEST_NAME_MAX + 1];

    for (const char *p = list; p && *p;) {
        p += strspn(p, seps);
        size_t n = strcspn(p, seps);
        if (n && n <= KPI_SUGGEST_NAME_MAX) {
            memcpy(name, p, n);
            name[n] = '\0';
            kpi_suggest_offer(s, name, 0);
            if (s->nearest == name) {
                memcpy(s->kept, name, n + 1);
                s->nearest = s->kept;
                s->nearest_skip = 0;
            }
            if (s->prefix_name == name) {
                memcpy(s->kept, name, n + 1);
                s->prefix_name = s->kept;
            }
        }
        p += n;
    }
}
