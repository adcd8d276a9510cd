#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void kpi_strmap_init(struct kpi_strmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void kpi_strmap_release(struct kpi_strmap *m)
{
    free(m->slots);
    kpi_strmap_init(m);
}

/* FNV-1a, folded to 32 bits: small, good enough spread for ids and names. */
static uint32_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static struct kpi_strmap_slot *find_slot(struct kpi_strmap_slot *slots, size_t cap,
                                         const char *key, uint32_t hash)
{
    size_t i = hash & (cap - 1);
    for (;;) {
        struct kpi_strmap_slot *s = &slots[i];
        if (!s->key || (s->hash == hash && !strcmp(s->key, key)))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

bool kpi_strmap_get(const struct kpi_strmap *m, const char *key, unsigned *value)
{
    if (!m->cap)
        return false;
    struct kpi_strmap_slot *s = find_slot(m->slots, m->cap, key, hash_string(key));
    if (!s->key)
        return false;
    *value = s->value;
    return true;
}

const char *kpi_strmap_find(const struct kpi_strmap *m, const char *key, unsigned *value)
{
    if (!m->cap)
        return NULL;
    struct kpi_strmap_slot *s = find_slot(m->slots, m->cap, key, hash_string(key));
    if (s->key && value)
        *value = s->value;
    return s->key;
}

static int grow(struct kpi_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct kpi_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            *find_slot(slots, cap, m->slots[i].key, m->slots[i].hash) = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int kpi_strmap_put(struct kpi_strmap *m, const char *key, unsigned value, unsigned *existing,
                   const char **key_out)
{
    uint32_t hash = hash_string(key);
    struct kpi_strmap_slot *s;

    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return -1;
    s = find_slot(m->slots, m->cap, key, hash);
    if (s->key) {
        if (existing)
            *existing = s->value;
        if (key_out)
            *key_out = s->key;
        return 0;
    }
    s->key = key;
    s->hash = hash;
    s->value = value;
    m->count++;
    return 1;
}
