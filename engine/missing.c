#include "missing.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua_names.h"
#include "strmap.h"

static const char *const policy_names[] = {
    [KPI_IF_MISSING_MISSING] = "missing", [KPI_IF_MISSING_ZERO] = "zero"};

int kpi_missing_parse(const char *text, enum kpi_if_missing *out)
{
    if (!text || !*text) {
        *out = KPI_IF_MISSING_MISSING;
        return 0;
    }
    for (size_t p = 0; p < sizeof policy_names / sizeof policy_names[0]; p++) {
        if (!strcmp(text, policy_names[p])) {
            *out = (enum kpi_if_missing)p;
            return 0;
        }
    }
    return -1;
}

const char *kpi_missing_name(enum kpi_if_missing policy)
{
    return (unsigned)policy < sizeof policy_names / sizeof policy_names[0] ? policy_names[policy]
                                                                           : "?";
}

/* The names a formula reads (lua_names.h), each once, in the order first
 * used: names[i] first used at byte first[i]; by_name maps a name to i. */
struct uses {
    struct kpi_strmap by_name;
    char **names;
    size_t *first;
    size_t n, cap;
    bool oom;
};

static void note_use(void *ctx, const struct kpi_lua_name *use)
{
    struct uses *u = ctx;
    if (u->oom || kpi_strmap_find(&u->by_name, use->name, NULL))
        return;
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 16;
        char **names = realloc(u->names, cap * sizeof *names);
        if (names)
            u->names = names;
        size_t *first = realloc(u->first, cap * sizeof *first);
        if (first)
            u->first = first;
        if (!names || !first) {
            u->oom = true;
            return;
        }
        u->cap = cap;
    }
    char *copy = strdup(use->name);
    if (!copy || kpi_strmap_put(&u->by_name, copy, (unsigned)u->n, NULL, NULL) < 0) {
        free(copy);
        u->oom = true;
        return;
    }
    u->names[u->n] = copy;
    u->first[u->n++] = use->offset;
}

/* Where name is first used in the formula, or SIZE_MAX. */
static size_t first_use(const struct uses *u, const char *name)
{
    unsigned i;
    return kpi_strmap_find(&u->by_name, name, &i) ? u->first[i] : SIZE_MAX;
}

static void uses_release(struct uses *u)
{
    kpi_strmap_release(&u->by_name);
    for (size_t i = 0; i < u->n; i++)
        free(u->names[i]);
    free(u->names);
    free(u->first);
}

int kpi_input_display_order(const void *x, const void *y)
{
    const struct kpi_ranked_input *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    int c = strcmp(a->input.name, b->input.name);
    if (c)
        return c;
    return a->input.line < b->input.line ? -1 : a->input.line > b->input.line;
}

int kpi_missing_fill(struct kpi_arena *a, struct kpi_indicator *k, kpi_known_input_fn known,
                     void *ctx)
{
    struct uses u = {0};
    struct kpi_strmap has; /* the KPI's inputs with a row, by name */
    size_t n_filled = 0;
    const char **fill = NULL;
    struct kpi_ranked_input *ranked = NULL;
    int rc = -1;

    if (k->if_missing != KPI_IF_MISSING_ZERO || k->invalid || !k->formula)
        return 0;
    kpi_strmap_init(&u.by_name);
    kpi_strmap_init(&has);
    for (unsigned i = 0; i < k->n_inputs; i++)
        if (kpi_strmap_put(&has, k->inputs[i].name, i, NULL, NULL) < 0)
            goto out;
    if (kpi_lua_names(k->formula, note_use, &u) || u.oom)
        goto out;
    if (!(fill = malloc((u.n ? u.n : 1) * sizeof *fill)))
        goto out;
    for (size_t w = 0; w < u.n; w++) {
        if (kpi_strmap_find(&has, u.names[w], NULL))
            continue;
        const char *interned = known(ctx, k, u.names[w]);
        if (interned)
            fill[n_filled++] = interned;
    }
    if (n_filled == 0) {
        rc = 0;
        goto out;
    }
    size_t n = k->n_inputs + n_filled;
    struct kpi_input *inputs = kpi_arena_alloc(a, n * sizeof *inputs);
    if (!inputs || !(ranked = malloc(n * sizeof *ranked)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        ranked[i].input =
            i < k->n_inputs ? k->inputs[i] : (struct kpi_input){fill[i - k->n_inputs], 0.0, 0};
        ranked[i].rank = first_use(&u, ranked[i].input.name);
    }
    qsort(ranked, n, sizeof *ranked, kpi_input_display_order);
    for (size_t i = 0; i < n; i++)
        inputs[i] = ranked[i].input;
    k->inputs = inputs;
    k->n_inputs = (unsigned)n;
    rc = 0;
out:
    free(ranked);
    free(fill);
    uses_release(&u);
    kpi_strmap_release(&has);
    return rc;
}

bool kpi_missing_filled(const struct kpi_indicator *k, const char *name)
{
    for (unsigned i = 0; i < k->n_inputs; i++)
        if (kpi_input_is_filled(&k->inputs[i]) && !strcmp(k->inputs[i].name, name))
            return true;
    return false;
}

unsigned kpi_missing_count(const struct kpi_indicator *k)
{
    unsigned n = 0;
    for (unsigned i = 0; i < k->n_inputs; i++)
        n += kpi_input_is_filled(&k->inputs[i]);
    return n;
}
