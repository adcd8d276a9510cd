/*
 * suggest.h - "did you mean ...?": the nearest of a set of names to one
 * that was mistyped.
 *
 * Provides struct kpi_suggest: start it with the typed name, offer it each
 * candidate, and pick. The rule (one for options, formula names and KPI
 * ids alike): a candidate the typed name is a prefix of, when there is
 * exactly one; otherwise the nearest by Damerau-Levenshtein distance
 * (optimal string alignment) within KPI_SUGGEST_DISTANCE edits that change
 * at most half of the typed letters, on a tie the first in byte order (so
 * that no message depends on the order of rows or of a table). Names
 * longer than KPI_SUGGEST_NAME_MAX bytes are not compared. Relies on
 * nothing. Memory: keeps pointers to the candidates it was offered.
 */
#ifndef KPIEVAL_SUGGEST_H
#define KPIEVAL_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#define KPI_SUGGEST_DISTANCE 2
#define KPI_SUGGEST_NAME_MAX 64

struct kpi_suggest {
    const char *typed;
    size_t typed_len;
    bool prefixes;           /* a prefix match counts (options: --per for --period) */
    size_t prefix_of, best_distance;
    const char *prefix_name, *nearest;
    size_t nearest_skip;    /* the bytes of nearest not compared */
    char kept[KPI_SUGGEST_NAME_MAX + 1]; /* a pick offered by kpi_suggest_offer_list */
};

/* prefixes: whether a unique candidate that typed is a prefix of wins. */
void kpi_suggest_init(struct kpi_suggest *s, const char *typed, size_t typed_len, bool prefixes);

/* Offers candidate (compared from its first byte after skip bytes, which
 * the pick keeps: "--period" is compared as "period"). */
void kpi_suggest_offer(struct kpi_suggest *s, const char *candidate, size_t skip);

/* Offers each name of list, names separated by any of the bytes of seps
 * ("a;b", "a, b"); a pick among them is kept in s. */
void kpi_suggest_offer_list(struct kpi_suggest *s, const char *list, const char *seps);

/* True when candidate is near enough to be offered at all (whatever was
 * offered before): a cheap test before a costlier one of the caller's. */
bool kpi_suggest_near(const struct kpi_suggest *s, const char *candidate);

/* The candidate to offer, or NULL. */
const char *kpi_suggest_pick(const struct kpi_suggest *s);

/* The distance between a and b (each at most KPI_SUGGEST_NAME_MAX bytes). */
size_t kpi_suggest_distance(const char *a, size_t la, const char *b, size_t lb);

#endif
