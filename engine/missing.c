#include "missing.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static bool is_word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A word of a formula: where it starts and how long it is. */
struct word {
    const char *start;
    size_t len;
};

/* The words of text in order, as kpi_missing_fill() defines them; NULL out
 * of memory (*n 0 and an empty text give a non-NULL empty array). */
static struct word *formula_words(const char *text, size_t *n)
{
    struct word *words = malloc((strlen(text) / 2 + 1) * sizeof *words);
    *n = 0;
    if (!words)
        return NULL;
    for (const char *p = text; *p;) {
        if (!is_word_char(*p)) {
            p++;
            continue;
        }
        const char *start = p;
        while (is_word_char(*p))
            p++;
        if ((start > text && start[-1] == '.') || (*start >= '0' && *start <= '9'))
            continue;
        words[(*n)++] = (struct word){start, (size_t)(p - start)};
    }
    return words;
}

/* The index of the first word that is name, or SIZE_MAX. */
static size_t first_use(const struct word *words, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t w = 0; w < n; w++)
        if (words[w].len == len && !memcmp(words[w].start, name, len))
            return w;
    return SIZE_MAX;
}

struct ranked {
    size_t rank;
    struct kpi_input input;
};

static int compare_ranked(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    int c = strcmp(a->input.name, b->input.name);
    if (c)
        return c;
    return a->input.line < b->input.line ? -1 : a->input.line > b->input.line;
}

static bool has_input(const struct kpi_indicator *k, const char *name, size_t len)
{
    for (unsigned i = 0; i < k->n_inputs; i++)
        if (!strncmp(k->inputs[i].name, name, len) && !k->inputs[i].name[len])
            return true;
    return false;
}

int kpi_missing_fill(struct kpi_arena *a, struct kpi_indicator *k, kpi_known_input_fn known,
                     void *ctx)
{
    size_t n_words, n_filled = 0;
    struct word *words;
    struct ranked *ranked = NULL;
    int rc = -1;

    if (k->if_missing != KPI_IF_MISSING_ZERO || k->invalid || !k->formula)
        return 0;
    if (!(words = formula_words(k->formula, &n_words)))
        return -1;
    /* Each filled name once: a word is new when no earlier word is it. */
    const char **fill = malloc((n_words ? n_words : 1) * sizeof *fill);
    if (!fill)
        goto out;
    for (size_t w = 0; w < n_words; w++) {
        char name[256];
        if (words[w].len >= sizeof name)
            continue;
        memcpy(name, words[w].start, words[w].len);
        name[words[w].len] = '\0';
        if (first_use(words, w, name) != SIZE_MAX || has_input(k, name, words[w].len))
            continue;
        const char *interned = known(ctx, k, name);
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
        ranked[i].rank = first_use(words, n_words, ranked[i].input.name);
    }
    qsort(ranked, n, sizeof *ranked, compare_ranked);
    for (size_t i = 0; i < n; i++)
        inputs[i] = ranked[i].input;
    k->inputs = inputs;
    k->n_inputs = (unsigned)n;
    rc = 0;
out:
    free(ranked);
    free(fill);
    free(words);
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
