/*
 * arena.h - bump allocator for strings and rows that live as long as a dataset.
 *
 * Provides struct kpi_arena (caller-owned: _init/_release) and allocation
 * calls that never free one by one: everything goes in kpi_arena_release().
 * Relies on malloc only. Memory rule: a pointer from an arena is valid until
 * the arena is released; nothing else owns it.
 */
#ifndef KPIEVAL_ARENA_H
#define KPIEVAL_ARENA_H

#include <stddef.h>

struct kpi_arena_block;

struct kpi_arena {
    struct kpi_arena_block *head; /* block being filled; older ones chain */
    size_t used;                  /* bytes used in head */
    size_t size;                  /* capacity of head */
};

void kpi_arena_init(struct kpi_arena *a);
void kpi_arena_release(struct kpi_arena *a);

/* n bytes aligned for any object, or NULL when out of memory. */
void *kpi_arena_alloc(struct kpi_arena *a, size_t n);

/* Copy of s[0..n) with a terminating NUL, or NULL when out of memory. */
char *kpi_arena_strndup(struct kpi_arena *a, const char *s, size_t n);

#endif
