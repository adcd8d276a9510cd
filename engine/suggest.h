/*
 * suggest.h - "did you mean": the nearest of some names to a mistyped one.
 *
 * Provides struct kpi_suggestion (caller-owned, no release): offer it each
 * candidate, then read the nearest within a small edit distance (optimal
 * string alignment: insert, delete, replace, swap two neighbours). The
 * pick does not depend on the order candidates are offered in (a tie goes
 * to the first in byte order), so messages do not depend on row order.
 * Relies on the C library only. Memory: candidates are borrowed.
 */
#ifndef KPIEVAL_SUGGEST_H
#define KPIEVAL_SUGGEST_H

#include <stddef.h>

/* Names longer than this are not compared (the table is on the stack). */
#define KPI_SUGGEST_NAME_MAX 64

struct kpi_suggestion {
    const char *typed;
    const char *nearest; /* NULL while none is close enough */
    size_t distance;
};

void kpi_suggestion_init(struct kpi_suggestion *s, const char *typed);

/* Considers candidate: kept when it is within 1 edit of a name of up to 4
 * bytes, 2 up to 8 and 3 beyond, and nearer than what is kept. */
void kpi_suggestion_offer(struct kpi_suggestion *s, const char *candidate);

/* The edit distance between a and b, both at most KPI_SUGGEST_NAME_MAX
 * bytes; above, SIZE_MAX. */
size_t kpi_suggest_distance(const char *a, const char *b);

#endif
