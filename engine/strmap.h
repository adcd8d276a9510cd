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
    uint64_t key[2]; /* the hash key (seed) */
};

/* Slots visited by this thread's lookups and inserts, over every map: a
 * measure of work, so that tests can check it grows linearly. */
extern _Thread_local unsigned long long kpi_strmap_probes;

/* An empty map keyed with the process's hash key, drawn once from
 * getrandom(): where a key lands is unpredictable from outside, so input
 * cannot be crafted to pile up in one run of slots (hash flooding), and it
 * differs between runs. Nothing may depend on the slot order: no caller
 * iterates the slots. */
void kpi_strmap_init(struct kpi_strmap *m);

/* The same with a chosen key (tests). */
void kpi_strmap_init_keyed(struct kpi_strmap *m, const uint64_t key[2]);

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

/* Changes the value of a key that is present; false (and nothing changed)
 * when it is not. */
bool kpi_strmap_set(struct kpi_strmap *m, const char *key, unsigned value);

#endif
