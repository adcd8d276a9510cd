#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_MIN (64 * 1024)

struct kpi_arena_block {
    struct kpi_arena_block *prev;
    alignas(max_align_t) unsigned char bytes[];
};

void kpi_arena_init(struct kpi_arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->size = 0;
}

void kpi_arena_release(struct kpi_arena *a)
{
    struct kpi_arena_block *b = a->head;
    while (b) {
        struct kpi_arena_block *prev = b->prev;
        free(b);
        b = prev;
    }
    kpi_arena_init(a);
}

static void *arena_alloc_aligned(struct kpi_arena *a, size_t n, size_t align)
{
    size_t start = (a->used + align - 1) & ~(align - 1);

    if (n > SIZE_MAX / 2)
        return NULL;
    if (!a->head || start > a->size || n > a->size - start) {
        size_t size = n > ARENA_BLOCK_MIN ? n : ARENA_BLOCK_MIN;
        struct kpi_arena_block *b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->prev = a->head;
        a->head = b;
        a->size = size;
        start = 0;
    }
    a->used = start + n;
    return a->head->bytes + start;
}

void *kpi_arena_alloc(struct kpi_arena *a, size_t n)
{
    return arena_alloc_aligned(a, n, alignof(max_align_t));
}

char *kpi_arena_strndup(struct kpi_arena *a, const char *s, size_t n)
{
    char *p = arena_alloc_aligned(a, n + 1, 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
