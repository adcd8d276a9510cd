/*
 * fnv_flood.h - keys that all land in one slot of the string map's old,
 * unseeded hash: FNV-1a (64 bit) folded to 32 bits, slot = hash & (cap - 1).
 *
 * Provides fnv_flood_keys(), an attacker's tool for the hash-flooding tests
 * (test_strmap.c, test_dataset.c). Relies only on the C library.
 *
 * How: the low m bits of an FNV-1a state depend only on the low m bits of
 * the state before and on the byte ((h ^ c) * P mod 2^m), and the fold's
 * low k bits are bits [0, k) ^ [32, 32 + k) of the state. So two blocks
 * that take one state to the same value mod 2^(32 + k) are interchangeable
 * for the slot at every capacity up to 2^k, whatever follows. A collision
 * of 8-character blocks mod 2^(32 + k) costs about 2^((32 + k) / 2) steps
 * (Pollard's rho); t such pairs in a row give 2^t keys (Joux's
 * multicollision). Keys use only [A-Za-z0-9_-], so they are valid KPI ids.
 */
#ifndef KPIEVAL_TEST_FNV_FLOOD_H
#define KPIEVAL_TEST_FNV_FLOOD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FNV_FLOOD_BLOCK 8 /* characters per block */

static const char fnv_flood_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/* The old slot hash, as engine/strmap.c computed it before it was keyed. */
static inline uint32_t fnv_flood_old_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static inline void fnv_flood_block(uint64_t v, char out[FNV_FLOOD_BLOCK])
{
    for (int i = 0; i < FNV_FLOOD_BLOCK; i++, v >>= 6)
        out[i] = fnv_flood_alphabet[v & 63];
}

/* The state mod 2^m after block(v) from state h. */
static inline uint64_t fnv_flood_step(uint64_t h, uint64_t v, uint64_t mask)
{
    char b[FNV_FLOOD_BLOCK];
    fnv_flood_block(v, b);
    for (int i = 0; i < FNV_FLOOD_BLOCK; i++)
        h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
    return h & mask;
}

/* Two different blocks x, y with the same state mod 2^m from h (Floyd's
 * cycle finding on v -> step(h, v)); returns the common state. */
static inline uint64_t fnv_flood_pair(uint64_t h, uint64_t mask, uint64_t *x, uint64_t *y)
{
    for (uint64_t start = 1;; start++) {
        uint64_t t = fnv_flood_step(h, start, mask), r = fnv_flood_step(h, t, mask);
        while (t != r) {
            t = fnv_flood_step(h, t, mask);
            r = fnv_flood_step(h, fnv_flood_step(h, r, mask), mask);
        }
        uint64_t pt = 0, pr = 0;
        t = start;
        if (t == r)
            continue; /* the start is on the cycle: no two predecessors */
        while (t != r) {
            pt = t, pr = r;
            t = fnv_flood_step(h, t, mask);
            r = fnv_flood_step(h, r, mask);
        }
        *x = pt, *y = pr;
        return t;
    }
}

/* Fills keys with the 2^t keys of t blocks each (each key t * 8 characters
 * and a NUL, in keys[i * (t * 8 + 1)]), all in the same old slot at every
 * capacity up to 2^k. Returns the key buffer (free it) or NULL. */
static inline char *fnv_flood_keys(unsigned k, unsigned t)
{
    uint64_t mask = (1ULL << (32 + k)) - 1, h = 1469598103934665603ULL & mask;
    size_t len = (size_t)t * FNV_FLOOD_BLOCK, n = (size_t)1 << t;
    char(*blocks)[2][FNV_FLOOD_BLOCK] = malloc(t * sizeof *blocks);
    char *keys = malloc(n * (len + 1));
    if (!blocks || !keys) {
        free(blocks);
        free(keys);
        return NULL;
    }
    for (unsigned b = 0; b < t; b++) {
        uint64_t x, y;
        h = fnv_flood_pair(h, mask, &x, &y);
        fnv_flood_block(x, blocks[b][0]);
        fnv_flood_block(y, blocks[b][1]);
    }
    for (size_t i = 0; i < n; i++) {
        char *key = keys + i * (len + 1);
        for (unsigned b = 0; b < t; b++)
            memcpy(key + (size_t)b * FNV_FLOOD_BLOCK, blocks[b][(i >> b) & 1], FNV_FLOOD_BLOCK);
        key[len] = '\0';
    }
    free(blocks);
    return keys;
}

#endif
