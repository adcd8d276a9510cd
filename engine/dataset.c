#include "kpieval/dataset.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "text.h"

/* ---- helpers shared with the builder ------------------------------------ */

kpi_dataset *kpi_model_new(const char *dir)
{
    kpi_dataset *ds = calloc(1, sizeof *ds);

    if (!ds)
        return NULL;
    kpi_arena_init(&ds->arena);
    kpi_strmap_init(&ds->ids);
    kpi_strmap_init(&ds->expression_ids);
    kpi_strmap_init(&ds->texts);
    kpi_strmap_init(&ds->department_paths);
    ds->warnings = calloc(KPI_WARNINGS_KEPT, sizeof *ds->warnings);
    if (dir)
        ds->dir = strdup(dir);
    if (!ds->warnings || (dir && !ds->dir)) {
        kpi_dataset_free(ds);
        return NULL;
    }
    return ds;
}

int kpi_model_grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*array, n * elem);
    if (!p)
        return -1;
    *array = p;
    *cap = n;
    return 0;
}

const char *kpi_model_vprintf(struct kpi_arena *a, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    /* Messages are bounded (docs/security.md) and cut between characters. */
    if (n < 0)
        n = 0;
    if (n > KPI_KPI_MESSAGE_MAX - 1) {
        n = KPI_KPI_MESSAGE_MAX - 1;
        while (n > 0 && ((unsigned char)buf[n] & 0xC0) == 0x80)
            n--;
    }
    return kpi_arena_strndup(a, buf, (size_t)n);
}

const char *kpi_model_clip(const char *s, char buf[64])
{
    size_t n = strlen(s);
    if (n < 60)
        return s;
    n = 56;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* do not cut a UTF-8 sequence */
    memcpy(buf, s, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

void kpi_model_warn(kpi_dataset *ds, const char *fmt, ...)
{
    ds->total_warnings++;
    if (ds->n_warnings < KPI_WARNINGS_KEPT) {
        va_list ap;
        va_start(ap, fmt);
        const char *text = kpi_model_vprintf(&ds->arena, fmt, ap);
        va_end(ap);
        if (text)
            ds->warnings[ds->n_warnings++] = text;
    }
}

/* ---- shared texts ------------------------------------------------------- */

/* Number of a distinct expression text, adding it when new; *stored is
 * the one copy of the text that every KPI using it shares. */
int kpi_model_intern_expression(kpi_dataset *ds, const char *text, unsigned *id,
                             const char **stored)
{
    if (kpi_strmap_get(&ds->expression_ids, text, id)) {
        *stored = ds->expressions[*id];
        return 0;
    }
    if (!(text = kpi_arena_strndup(&ds->arena, text, strlen(text))))
        return -1;
    if (kpi_strmap_put(&ds->expression_ids, text, (unsigned)ds->n_expressions, NULL, NULL) < 0)
        return -1;
    if (kpi_model_grow((void **)&ds->expressions, &ds->cap_expressions, ds->n_expressions + 1,
                       sizeof *ds->expressions))
        return -1;
    *id = (unsigned)ds->n_expressions;
    ds->expressions[ds->n_expressions++] = text;
    *stored = text;
    return 0;
}

/* The one copy of a department path, recorded in first-seen order for the
 * tree; NULL when out of memory. A department has many KPIs: its path is
 * copied only the first time. */
const char *kpi_model_intern_department(kpi_dataset *ds, const char *path)
{
    const char *stored = kpi_strmap_find(&ds->department_paths, path, NULL);
    if (stored)
        return stored;
    char *copy = kpi_arena_strndup(&ds->arena, path, strlen(path));
    if (!copy ||
        kpi_strmap_put(&ds->department_paths, copy, (unsigned)ds->n_seen_paths, NULL, NULL) < 0 ||
        kpi_model_grow((void **)&ds->seen_paths, &ds->cap_seen_paths, ds->n_seen_paths + 1,
                       sizeof *ds->seen_paths))
        return NULL;
    ds->seen_paths[ds->n_seen_paths++] = copy;
    return copy;
}

/* One shared copy of short repeated texts such as units. */
const char *kpi_model_intern_text(kpi_dataset *ds, const char *text)
{
    const char *stored = kpi_strmap_find(&ds->texts, text, NULL);
    if (stored)
        return stored;
    if (!(stored = kpi_arena_strndup(&ds->arena, text, strlen(text))) ||
        kpi_strmap_put(&ds->texts, stored, 0, NULL, NULL) < 0)
        return NULL;
    return stored;
}

/* ---- the department tree ------------------------------------------------ */

/* Tree order: level by level, so "a/c" (child of a) sorts before "a-b". */
static int compare_path(const void *pa, const void *pb)
{
    const unsigned char *a = *(const unsigned char *const *)pa;
    const unsigned char *b = *(const unsigned char *const *)pb;
    for (;; a++, b++) {
        int ca = *a == '/' ? 1 : *a ? *a + 1 : 0;
        int cb = *b == '/' ? 1 : *b ? *b + 1 : 0;
        if (ca != cb)
            return ca - cb;
        if (!ca)
            return 0;
    }
}

/* Every prefix of every path is a node: *paths gets each once, in no
 * particular order. A path's prefixes are tried longest first and the walk
 * stops at the first one already known (its own prefixes are then known
 * too), so each path costs its length plus the length of each node it
 * adds, and a prefix is copied once, not once per path beneath it.
 * Returns 0 or -1 (out of memory); *paths is the caller's to free. */
static int collect_nodes(kpi_dataset *ds, struct kpi_strmap *nodes, const char ***paths,
                         size_t *n)
{
    size_t cap = 0;

    for (size_t i = 0; i < ds->n_seen_paths; i++) {
        const char *path = ds->seen_paths[i];
        size_t len = strlen(path);
        char prefix[KPI_DEPARTMENT_PATH_MAX + 1];
        assert(len <= KPI_DEPARTMENT_PATH_MAX);
        for (;;) {
            const char *stored;
            memcpy(prefix, path, len);
            prefix[len] = '\0';
            if (kpi_strmap_find(nodes, prefix, NULL))
                break;
            stored = path[len] ? kpi_arena_strndup(&ds->arena, path, len) : path;
            if (!stored || kpi_strmap_put(nodes, stored, 0, NULL, NULL) < 0 ||
                kpi_model_grow((void **)paths, &cap, *n + 1, sizeof **paths))
                return -1;
            (*paths)[(*n)++] = stored;
            while (len > 0 && path[len - 1] != '/')
                len--;
            if (len == 0)
                break;
            len--; /* the '/' */
        }
    }
    return 0;
}

/* Makes the nodes of the sorted paths, each linked to its parent, and
 * maps each path to its node. Returns 0 or -1 (out of memory). */
static int link_nodes(kpi_dataset *ds, const char *const *paths, size_t n,
                      struct kpi_strmap *nodes)
{
    if (!(ds->departments = calloc(n ? n : 1, sizeof *ds->departments)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct kpi_department *d = &ds->departments[i];
        const char *slash = strrchr(paths[i], '/');
        d->path = paths[i];
        d->name = slash ? slash + 1 : paths[i];
        d->parent = KPI_NONE;
        d->depth = 0;
        d->number = (unsigned)i;
        if (slash) {
            /* The parent sorts before its child, so it is in the map. */
            char parent[KPI_DEPARTMENT_PATH_MAX + 1];
            size_t plen = (size_t)(slash - paths[i]);
            unsigned j;
            memcpy(parent, paths[i], plen);
            parent[plen] = '\0';
            if (kpi_strmap_get(nodes, parent, &j)) {
                d->parent = j;
                d->depth = ds->departments[j].depth + 1;
            }
        }
        if (kpi_strmap_put(nodes, paths[i], (unsigned)i, NULL, NULL) < 0)
            return -1;
    }
    ds->n_departments = ds->n_departments_total = n;
    return 0;
}

int kpi_model_build_tree(kpi_dataset *ds, struct kpi_error *err)
{
    struct kpi_strmap nodes;
    const char **paths = NULL;
    size_t n = 0;
    int rc = 0;

    kpi_strmap_init(&nodes);
    if (collect_nodes(ds, &nodes, &paths, &n)) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    qsort(paths, n, sizeof *paths, compare_path);
    kpi_strmap_release(&nodes);
    if (link_nodes(ds, paths, n, &nodes)) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ds->n_indicators; i++) {
        struct kpi_indicator *k = &ds->indicators[i];
        unsigned node = KPI_NONE;
        kpi_strmap_get(&nodes, k->department, &node);
        k->department_id = node;
    }
out:
    kpi_strmap_release(&nodes);
    free(paths);
    return rc;
}

/* ---- canonical order ---------------------------------------------------- */

/* Tree order of the departments, then id: the order of every report, so
 * that reports do not depend on the order of rows in the files, and a
 * department's subtree is one run of KPIs. */
static int compare_tree_order(const void *pa, const void *pb)
{
    const struct kpi_indicator *a = pa, *b = pb;
    if (a->department_id != b->department_id)
        return a->department_id < b->department_id ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Points id's entry in the map at index (KPI_NONE: dropped by a shard);
 * every id is in the map already, so nothing is allocated. */
static void point_id(kpi_dataset *ds, const char *id, unsigned index)
{
    bool found = kpi_strmap_set(&ds->ids, id, index);
    assert(found);
    (void)found;
}

void kpi_model_sort(kpi_dataset *ds)
{
    qsort(ds->indicators, ds->n_indicators, sizeof *ds->indicators, compare_tree_order);
    for (size_t i = 0; i < ds->n_indicators; i++)
        point_id(ds, ds->indicators[i].id, (unsigned)i);
}

bool kpi_indicator_declares(const struct kpi_indicator *k, const char *name)
{
    return k->declared && kpi_text_list_has(k->declared, name);
}

const struct kpi_indicator *kpi_dataset_find(const kpi_dataset *ds, const char *id)
{
    unsigned i;
    if (!kpi_strmap_get(&ds->ids, id, &i) || i == KPI_NONE)
        return NULL;
    assert(i < ds->n_indicators && !strcmp(ds->indicators[i].id, id));
    return &ds->indicators[i];
}

/* ---- shards ------------------------------------------------------------- */

unsigned kpi_shard_of(const char *top_level, unsigned count)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)top_level; *p && *p != '/'; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return count ? (unsigned)(h % count) + 1 : 1;
}

/* The top-level department a department node is under (itself at the
 * top); nodes are in tree order, a parent before its children. */
static unsigned top_of(const kpi_dataset *ds, const unsigned *top, unsigned d)
{
    unsigned parent = ds->departments[d].parent;
    return parent == KPI_NONE ? d : top[parent];
}

static unsigned group_root(unsigned *group, unsigned d)
{
    while (group[d] != d) {
        group[d] = group[group[d]]; /* halves the path */
        d = group[d];
    }
    return d;
}

/* group[d] for each top-level department d: the first top-level department
 * (in tree order, which is the byte order of their names) of those tied to
 * it by a KPI reading another (union-find). top is scratch, one per node.
 * A group goes to the shard of that first name. */
static void group_top_levels(const kpi_dataset *ds, unsigned *top, unsigned *group)
{
    for (size_t d = 0; d < ds->n_departments; d++) {
        top[d] = top_of(ds, top, (unsigned)d);
        group[d] = (unsigned)d;
    }
    for (size_t i = 0; i < ds->n_indicators; i++) {
        const struct kpi_indicator *k = &ds->indicators[i];
        for (unsigned j = 0; j < k->n_deps; j++) {
            const struct kpi_indicator *dep = kpi_dataset_find(ds, k->deps[j]);
            if (!dep)
                continue;
            unsigned a = group_root(group, top[k->department_id]);
            unsigned b = group_root(group, top[dep->department_id]);
            if (a < b)
                group[b] = a;
            else
                group[a] = b;
        }
    }
}

int kpi_dataset_keep_shard(kpi_dataset *ds, unsigned index, unsigned count,
                           struct kpi_error *err)
{
    size_t n_deps = ds->n_departments, kept = 0, kept_kpis = 0;
    unsigned *new_id = malloc((n_deps ? n_deps : 1) * sizeof *new_id);
    unsigned *top = NULL, *group = NULL;
    bool keep = false, composite = false;

    if (index < 1 || index > count) {
        free(new_id);
        kpi_error_set(err, KPI_EUSAGE, "shard %u of %u: expected 1 to %u", index, count, count);
        return kpi_error_setting(err, KPI_EUSAGE, KPI_SETTING_SHARD);
    }
    for (size_t i = 0; i < ds->n_indicators && !composite; i++)
        composite = ds->indicators[i].n_deps > 0;
    if (composite) {
        top = malloc((n_deps ? n_deps : 1) * sizeof *top);
        group = malloc((n_deps ? n_deps : 1) * sizeof *group);
    }
    if (!new_id || (composite && (!top || !group))) {
        free(new_id);
        free(top);
        free(group);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    /* A KPI and the KPIs it reads stay in one shard: the top-level
     * departments they are under go together. */
    if (composite)
        group_top_levels(ds, top, group);
    /* Tree order: a top-level department is followed by its subtree. */
    for (size_t d = 0; d < n_deps; d++) {
        struct kpi_department *dep = &ds->departments[d];
        if (dep->depth == 0)
            keep =
                kpi_shard_of(ds->departments[composite ? group_root(group, (unsigned)d) : d].path,
                             count) == index;
        new_id[d] = keep ? (unsigned)kept : KPI_NONE;
        if (!keep)
            continue;
        struct kpi_department moved = *dep;
        if (moved.parent != KPI_NONE)
            moved.parent = new_id[moved.parent];
        ds->departments[kept++] = moved;
    }
    ds->n_departments = kept;
    for (size_t i = 0; i < ds->n_indicators; i++) {
        struct kpi_indicator k = ds->indicators[i];
        if (new_id[k.department_id] == KPI_NONE) {
            point_id(ds, k.id, KPI_NONE);
            continue;
        }
        k.department_id = new_id[k.department_id];
        point_id(ds, k.id, (unsigned)kept_kpis);
        ds->indicators[kept_kpis++] = k;
    }
    ds->n_indicators = kept_kpis;
    free(new_id);
    free(top);
    free(group);
    return 0;
}

size_t kpi_dataset_departments_total(const kpi_dataset *ds)
{
    return ds->n_departments_total;
}

/* ---- views ------------------------------------------------------------- */

void kpi_dataset_free(kpi_dataset *ds)
{
    if (!ds)
        return;
    kpi_arena_release(&ds->arena);
    kpi_strmap_release(&ds->ids);
    kpi_strmap_release(&ds->expression_ids);
    kpi_strmap_release(&ds->texts);
    free(ds->inputs);
    kpi_strmap_release(&ds->department_paths);
    free(ds->indicators);
    free(ds->expressions);
    free(ds->departments);
    free(ds->seen_paths);
    free(ds->extra_columns);
    free(ds->warnings);
    free(ds->dir);
    free(ds);
}

const struct kpi_indicator *kpi_dataset_indicators(const kpi_dataset *ds, size_t *n)
{
    *n = ds->n_indicators;
    return ds->indicators;
}

const struct kpi_department *kpi_dataset_departments(const kpi_dataset *ds, size_t *n)
{
    *n = ds->n_departments;
    return ds->departments;
}

const char *const *kpi_dataset_expressions(const kpi_dataset *ds, size_t *n)
{
    *n = ds->n_expressions;
    return ds->expressions;
}

const char *const *kpi_dataset_extra_columns(const kpi_dataset *ds, size_t *n)
{
    *n = ds->n_extra_columns;
    return ds->extra_columns;
}

const char *kpi_dataset_period(const kpi_dataset *ds)
{
    return ds->period;
}

const char *const *kpi_dataset_warnings(const kpi_dataset *ds, size_t *n, size_t *total)
{
    *n = ds->n_warnings;
    if (total)
        *total = ds->total_warnings;
    return ds->warnings;
}

const char *kpi_dataset_dir(const kpi_dataset *ds)
{
    return ds->dir;
}

int kpi_dataset_add_warning(kpi_dataset *ds, const char *text, bool first, struct kpi_error *err)
{
    size_t kept = ds->n_warnings;

    if (first && kept == KPI_WARNINGS_KEPT && ds->n_first_warnings < kept)
        ds->n_warnings = --kept; /* the last one kept makes room; it is still counted */
    kpi_model_warn(ds, "%s", text);
    if (ds->n_warnings == kept && kept < KPI_WARNINGS_KEPT)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (first && ds->n_warnings > kept) {
        const char *added = ds->warnings[kept];
        size_t at = ds->n_first_warnings++;
        memmove(&ds->warnings[at + 1], &ds->warnings[at], (kept - at) * sizeof *ds->warnings);
        ds->warnings[at] = added;
    }
    return 0;
}
