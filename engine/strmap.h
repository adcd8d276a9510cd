/*
 * strmap.h - open-addressing hash map from strings to unsigned numbers.
 *
 * Provides struct kpi_strmap (caller-owned: _init/_release), used to find
 * KPIs by id, intern input names and number distinct formula texts.
 * Relies on malloc. Memory: keys are borrowed, not copied; they must outlive
 * the map (they live in the dataset's arena).
 */
#ifndef KPIEVAL_STRMAP_H
#define KPIEVAL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 16 bytes: a million ids take 32 MB of slots at the 3/4 load limit. */
struct kpi_strmap_slot {
    const char *key; /* NULL when free */
    uint32_t hash;
    unsigned value;
};

struct kpi_strmap {
    struct kpi_strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
};

void kpi_strmap_init(struct kpi_strmap *m);
void kpi_strmap_release(struct kpi_strmap *m);

/* Looks key up; true and *value set when present. */
bool kpi_strmap_get(const struct kpi_strmap *m, const char *key, unsigned *value);

/* Looks key up; returns the stored key (the one copy the map keeps) and
 * sets *value when present (value may be NULL), else NULL. */
const char *kpi_strmap_find(const struct kpi_strmap *m, const char *key, unsigned *value);

/* Inserts key -> value unless key is present. Returns 1 when inserted, 0
 * when present (*existing then holds its value, and *key_out its stored
 * key pointer when key_out is non-NULL), -1 when out of memory. */
int kpi_strmap_put(struct kpi_strmap *m, const char *key, unsigned value, unsigned *existing,
                   const char **key_out);

#endif
