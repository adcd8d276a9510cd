#include "kpieval/builder.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "missing.h"
#include "model.h"
#include "references.h"
#include "suggest.h"
#include "text.h"

/* An actual row as added: 24 bytes, the size of the kpi_input it becomes
 * (finish writes the inputs over the rows, so a million of them are held
 * once). */
struct raw_actual {
    unsigned kpi;
    unsigned line;
    unsigned name; /* number of the interned name */
    double value;
};

/* What finish knows of each distinct input name, by its number. Fields
 * are stamped with the KPI they were set for, so they need no clearing
 * between KPIs. */
struct name_state {
    const char *name;
    unsigned seen_kpi;  /* the last KPI with a row for this name */
    unsigned seen_line; /* that row's line */
    unsigned used_kpi;  /* the last KPI whose formula uses the name */
    size_t used_at;     /* where it first occurs in that formula */
};

struct kpi_builder {
    kpi_dataset *ds;
    struct kpi_strmap names; /* interned input name -> its number */
    struct name_state *name_list;
    size_t n_names, cap_names;
    struct raw_actual *rows;
    size_t n_rows, cap_rows;
    size_t n_actuals;  /* rows added, for numbering lines */
    unsigned last_kpi; /* the KPI of the previous row, or KPI_NONE */
};

#define INDICATORS "indicators.csv"
#define ACTUALS    "actuals.csv"

static const char *arena_dup(struct kpi_arena *a, const char *s)
{
    return kpi_arena_strndup(a, s, strlen(s));
}

static const char *cell(const char *s)
{
    return s ? s : "";
}

int kpi_builder_new(const char *dir, kpi_builder **out, struct kpi_error *err)
{
    kpi_builder *b = calloc(1, sizeof *b);

    *out = NULL;
    if (!b || !(b->ds = kpi_model_new(dir))) {
        free(b);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    kpi_strmap_init(&b->names);
    b->last_kpi = KPI_NONE;
    *out = b;
    return 0;
}

void kpi_builder_free(kpi_builder *b)
{
    if (!b)
        return;
    kpi_dataset_free(b->ds);
    kpi_strmap_release(&b->names);
    free(b->name_list);
    free(b->rows);
    free(b);
}

size_t kpi_builder_count(const kpi_builder *b)
{
    return b->ds ? b->ds->n_indicators : 0;
}

int kpi_builder_set_extra_columns(kpi_builder *b, const char *const *names, size_t n,
                                  struct kpi_error *err)
{
    kpi_dataset *ds = b->ds;

    if (ds->n_indicators || ds->n_extra_columns)
        return kpi_error_set(err, KPI_EUSAGE, "extra columns are named before any indicator");
    ds->extra_columns = calloc(n ? n : 1, sizeof *ds->extra_columns);
    if (!ds->extra_columns)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (size_t e = 0; e < n; e++) {
        if (!(ds->extra_columns[e] = arena_dup(&ds->arena, names[e])))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        ds->n_extra_columns++;
    }
    return 0;
}

int kpi_builder_set_period(kpi_builder *b, const char *period, struct kpi_error *err)
{
    b->ds->period = period ? arena_dup(&b->ds->arena, period) : NULL;
    if (period && !b->ds->period)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    return 0;
}

/* ---- an indicator's cells ----------------------------------------------- */

/* A department path is at most KPI_DEPARTMENT_LEVELS_MAX levels joined by
 * '/', none empty, '.' or '..', in at most KPI_DEPARTMENT_PATH_MAX bytes. */
static const char *department_problem(const char *path)
{
    unsigned levels = 0;
    if (!*path)
        return "is empty";
    if (strlen(path) > KPI_DEPARTMENT_PATH_MAX)
        return "is longer than " KPI_STR(KPI_DEPARTMENT_PATH_MAX) " bytes";
    const char *level = path;
    for (;;) {
        if (++levels > KPI_DEPARTMENT_LEVELS_MAX)
            return "has more than " KPI_STR(KPI_DEPARTMENT_LEVELS_MAX) " levels";
        const char *slash = strchr(level, '/');
        size_t n = slash ? (size_t)(slash - level) : strlen(level);
        if (n == 0)
            return "has an empty level";
        if ((n == 1 && level[0] == '.') || (n == 2 && level[0] == '.' && level[1] == '.'))
            return "has a level '.' or '..'";
        if (!slash)
            return NULL;
        level = slash + 1;
    }
}

/* Length of the space character at s: ' ', tab, no-break space (U+00A0)
 * or ideographic space (U+3000, common in Korean documents); else 0. */
static size_t space_at(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] == ' ' || u[0] == '\t')
        return 1;
    if (u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
        return 3;
    return 0;
}

/* path with the spaces around each level removed ("서울시 / 교통정책과"
 * is "서울시/교통정책과"), in buf; path itself when there are none, or
 * when it does not fit (it is then too long anyway). */
static const char *trim_levels(const char *path, char *buf, size_t size)
{
    size_t o = 0, keep = 0; /* keep: o after the level's last non-space */
    bool at_start = true, changed = false;

    for (const char *p = path; *p;) {
        size_t sp = space_at(p);
        if (*p == '/') {
            changed |= keep != o;
            o = keep;
            if (o + 1 >= size)
                return path;
            buf[o++] = '/';
            keep = o;
            at_start = true;
            p++;
        } else if (sp && at_start) {
            changed = true;
            p += sp;
        } else {
            size_t n = sp ? sp : 1;
            if (o + n >= size)
                return path;
            memcpy(buf + o, p, n);
            o += n;
            p += n;
            if (!sp)
                keep = o;
            at_start = false;
        }
    }
    changed |= keep != o;
    buf[keep] = '\0';
    return changed ? buf : path;
}

/* Records the first problem of a KPI; later ones add nothing and are not
 * even formatted (a KPI may have a million bad rows). */
static void set_invalid(kpi_dataset *ds, struct kpi_indicator *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_invalid(kpi_dataset *ds, struct kpi_indicator *k, const char *fmt, ...)
{
    if (k->invalid)
        return;
    va_list ap;
    va_start(ap, fmt);
    const char *message = kpi_model_vprintf(&ds->arena, fmt, ap);
    va_end(ap);
    k->invalid = message ? message : "invalid";
}

static const struct kpi_bad_cells all_cells_read = {NULL, NULL, NULL, NULL};

/* Keeps an unreadable cell as written (which: offset of its member in
 * struct kpi_bad_cells), in the KPI's own record made on first need. */
static void keep_bad_cell(kpi_dataset *ds, struct kpi_indicator *k, size_t which, const char *text)
{
    if (k->bad == &all_cells_read) {
        struct kpi_bad_cells *b = kpi_arena_alloc(&ds->arena, sizeof *b);
        if (!b)
            return;
        *b = all_cells_read;
        k->bad = b;
    }
    struct kpi_bad_cells *b = (struct kpi_bad_cells *)(uintptr_t)k->bad;
    *(const char **)(void *)((char *)b + which) = arena_dup(&ds->arena, text);
}

/* Reads a number cell; on failure the KPI is invalid and the cell is kept
 * as written. */
static void number_cell(kpi_dataset *ds, struct kpi_indicator *k, const char *column,
                        const char *text, double *out, size_t which)
{
    char c[64];
    enum kpi_number_problem p = kpi_text_parse_number(text, out);
    if (p != KPI_NUMBER_OK) {
        set_invalid(ds, k, INDICATORS ":%u: %s '%s' %s", k->line, column, kpi_model_clip(text, c),
                    kpi_text_number_problem(p));
        keep_bad_cell(ds, k, which, text);
    }
}

/* id, name, department and unit: problems here stop the run. */
static int identity_cells(kpi_dataset *ds, struct kpi_indicator *k,
                          const struct kpi_indicator_spec *spec, struct kpi_error *err)
{
    const char *text = cell(spec->id), *problem;
    unsigned existing;
    char c[64];

    if (!kpi_text_is_kpi_id(text))
        return kpi_error_at(err, KPI_EINPUT, INDICATORS, k->line, 0,
                            INDICATORS ":%u: id '%s' %s; use letters, digits, '.', '_' and '-'",
                            k->line, kpi_model_clip(text, c),
                            *text ? "has a character not allowed" : "is empty");
    if (!(k->id = arena_dup(&ds->arena, text)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    int r = kpi_strmap_put(&ds->ids, k->id, (unsigned)ds->n_indicators, &existing, NULL);
    if (r < 0)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (r == 0) {
        kpi_error_at(err, KPI_EINPUT, INDICATORS, k->line, 0,
                     INDICATORS ":%u: duplicate id '%s' (first at line %u)", k->line, k->id,
                     ds->indicators[existing].line);
        return kpi_error_kpi(err, KPI_EINPUT, k->id);
    }
    if (!*(text = cell(spec->name))) {
        kpi_error_at(err, KPI_EINPUT, INDICATORS, k->line, 0,
                     INDICATORS ":%u: name of '%s' is empty", k->line, k->id);
        return kpi_error_kpi(err, KPI_EINPUT, k->id);
    }
    if (!(k->name = arena_dup(&ds->arena, text)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    char trimmed[KPI_DEPARTMENT_PATH_MAX + 1];
    const char *written = cell(spec->department);
    text = trim_levels(written, trimmed, sizeof trimmed);
    if (text != written && !kpi_strmap_find(&ds->texts, written, NULL)) {
        /* once per way of writing it, not once per KPI */
        char w[64];
        kpi_model_warn(ds, INDICATORS ":%u: department '%s': spaces around a level removed, "
                       "read as '%s'", k->line, kpi_model_clip(written, w), text);
        if (!kpi_model_intern_text(ds, written))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    if ((problem = department_problem(text))) {
        kpi_error_at(err, KPI_EINPUT, INDICATORS, k->line, 0,
                     INDICATORS ":%u: department '%s' of '%s' %s", k->line, kpi_model_clip(text, c),
                     k->id, problem);
        return kpi_error_kpi(err, KPI_EINPUT, k->id);
    }
    if (!(k->department = kpi_model_intern_department(ds, text)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    text = cell(spec->unit);
    if (!(k->unit = *text ? kpi_model_intern_text(ds, text) : ""))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    return 0;
}

/* direction, baseline, target and weight: problems make the KPI invalid. */
static void number_cells(kpi_dataset *ds, struct kpi_indicator *k,
                         const struct kpi_indicator_spec *spec)
{
    const char *text = cell(spec->direction);
    char c[64];

    if (!*text || !strcmp(text, "increase")) {
        k->direction = KPI_DIRECTION_INCREASE;
    } else if (!strcmp(text, "decrease")) {
        k->direction = KPI_DIRECTION_DECREASE;
    } else {
        set_invalid(ds, k, INDICATORS ":%u: direction '%s' is not 'increase' or 'decrease'",
                    k->line, kpi_model_clip(text, c));
        keep_bad_cell(ds, k, offsetof(struct kpi_bad_cells, direction), text);
    }
    text = cell(spec->baseline);
    if (*text && strcmp(text, "-")) {
        k->has_baseline = true;
        number_cell(ds, k, "baseline", text, &k->baseline,
                    offsetof(struct kpi_bad_cells, baseline));
    }
    number_cell(ds, k, "target", cell(spec->target), &k->target,
                offsetof(struct kpi_bad_cells, target));
    k->weight = 1;
    if (*(text = cell(spec->weight))) {
        number_cell(ds, k, "weight", text, &k->weight, offsetof(struct kpi_bad_cells, weight));
        if (k->weight < 0 || k->weight > KPI_WEIGHT_MAX) {
            set_invalid(ds, k, INDICATORS ":%u: weight '%s' is %s", k->line,
                        kpi_model_clip(text, c),
                        k->weight < 0 ? "negative" : "larger than " KPI_STR(KPI_WEIGHT_MAX));
            keep_bad_cell(ds, k, offsetof(struct kpi_bad_cells, weight), text);
        }
    }
}

/* formula, scoring and the extra columns; fails only out of memory. */
/* The `inputs` cell: names between ';', blanks around each removed, kept
 * joined by ';' (one shared copy per distinct list). A piece that is not a
 * Lua identifier, or a name given twice, makes the KPI invalid. Returns -1
 * only when out of memory. */
static int declared_inputs(kpi_dataset *ds, struct kpi_indicator *k, const char *cell_text)
{
    const char *p = cell_text ? cell_text : "";
    size_t len = strlen(p);
    char *list = malloc(len + 1), *end = list;
    int rc = 0;

    if (!list)
        return -1;
    while (*p) {
        const char *start, *stop;
        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        while (*p && *p != ';')
            p++;
        stop = p;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r' ||
                                stop[-1] == '\n'))
            stop--;
        if (*p == ';')
            p++;
        if (stop == start)
            continue;
        char name[64], c[64];
        size_t n = (size_t)(stop - start);
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), start);
        if (n >= sizeof name || !kpi_text_is_lua_name(name)) {
            set_invalid(ds, k,
                        INDICATORS ":%u: inputs: '%s' is not a name a formula can use (letters, "
                        "digits and '_', not starting with a digit; names are separated by ';')",
                        k->line, kpi_model_clip(name, c));
            continue;
        }
        *end = '\0';
        if (kpi_text_list_has(list, name)) {
            set_invalid(ds, k, INDICATORS ":%u: inputs: '%s' is declared twice", k->line, name);
            continue;
        }
        if (end > list)
            *end++ = ';';
        memcpy(end, name, n);
        end += n;
    }
    *end = '\0';
    if (end > list && !(k->declared = kpi_model_intern_text(ds, list)))
        rc = -1;
    free(list);
    return rc;
}

static int rule_cells(kpi_dataset *ds, struct kpi_indicator *k,
                      const struct kpi_indicator_spec *spec)
{
    const char *text = cell(spec->formula);

    if (!*text) {
        k->formula = "";
        set_invalid(ds, k, INDICATORS ":%u: formula is empty", k->line);
    } else if (kpi_model_intern_expression(ds, text, &k->formula_id, &k->formula)) {
        return -1;
    }
    text = cell(spec->scoring);
    if (!*text) {
        k->scoring = KPI_SCORING_RATIO;
    } else if (!strcmp(text, "linear")) {
        k->scoring = KPI_SCORING_LINEAR;
    } else if (!strcmp(text, "baseline")) {
        k->scoring = KPI_SCORING_BASELINE;
        if (!k->has_baseline)
            set_invalid(ds, k,
                        INDICATORS ":%u: scoring 'baseline' needs a baseline, and it is empty",
                        k->line);
    } else if (!strcmp(text, "binary")) {
        k->scoring = KPI_SCORING_BINARY;
    } else {
        k->scoring = KPI_SCORING_EXPRESSION;
        if (kpi_model_intern_expression(ds, text, &k->scoring_id, &k->scoring_text))
            return -1;
    }
    if (declared_inputs(ds, k, spec->inputs))
        return -1;
    if (ds->n_extra_columns) {
        const char **extra = kpi_arena_alloc(&ds->arena, ds->n_extra_columns * sizeof *extra);
        if (!extra)
            return -1;
        for (size_t e = 0; e < ds->n_extra_columns; e++) {
            if (!(extra[e] = arena_dup(&ds->arena, spec->extra ? cell(spec->extra[e]) : "")))
                return -1;
        }
        k->extra = extra;
    }
    return 0;
}

int kpi_builder_add_indicator(kpi_builder *b, const struct kpi_indicator_spec *spec,
                              struct kpi_error *err)
{
    kpi_dataset *ds = b->ds;
    struct kpi_indicator *k;
    int rc;

    if (b->n_actuals)
        return kpi_error_set(err, KPI_EUSAGE, "indicators are added before their actuals");
    if (kpi_model_grow((void **)&ds->indicators, &ds->cap_indicators, ds->n_indicators + 1,
                       sizeof *ds->indicators))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    k = &ds->indicators[ds->n_indicators];
    memset(k, 0, sizeof *k);
    k->line = spec->line ? spec->line : (unsigned)ds->n_indicators + 2;
    k->scoring_id = KPI_NONE;
    k->department_id = KPI_NONE;
    k->bad = &all_cells_read;
    if ((rc = identity_cells(ds, k, spec, err)))
        return rc;
    number_cells(ds, k, spec);
    if (rule_cells(ds, k, spec))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    enum kpi_if_missing policy = KPI_IF_MISSING_MISSING;
    char c[64];
    if (kpi_missing_parse(cell(spec->if_missing), &policy))
        set_invalid(ds, k, INDICATORS ":%u: if_missing '%s' is not " KPI_IF_MISSING_ACCEPTED,
                    k->line, kpi_model_clip(cell(spec->if_missing), c));
    k->if_missing = (unsigned char)policy;
    ds->n_indicators++;
    return 0;
}

/* ---- actuals ------------------------------------------------------------ */

/* The number of an input name, interning it when new; KPI_NONE when it
 * is not a Lua identifier (only valid names are interned: a name seen
 * before needs no check), or out of memory (*oom set). */
static unsigned input_name(kpi_builder *b, const char *name, bool *oom)
{
    unsigned number;
    if (kpi_strmap_find(&b->names, name, &number))
        return number;
    if (!kpi_text_is_lua_name(name))
        return KPI_NONE;
    char *copy = kpi_arena_strndup(&b->ds->arena, name, strlen(name));
    number = (unsigned)b->n_names;
    if (!copy || kpi_strmap_put(&b->names, copy, number, NULL, NULL) < 0 ||
        kpi_model_grow((void **)&b->name_list, &b->cap_names, b->n_names + 1,
                       sizeof *b->name_list)) {
        *oom = true;
        return KPI_NONE;
    }
    b->name_list[b->n_names++] = (struct name_state){copy, KPI_NONE, 0, KPI_NONE, 0};
    return number;
}

int kpi_builder_note_input(kpi_builder *b, const char *name, struct kpi_error *err)
{
    bool oom = false;
    input_name(b, cell(name), &oom);
    return oom ? kpi_error_set(err, KPI_ENOMEM, "out of memory") : 0;
}

int kpi_builder_add_actual(kpi_builder *b, const struct kpi_actual_spec *spec,
                           struct kpi_error *err)
{
    kpi_dataset *ds = b->ds;
    const char *id = cell(spec->indicator), *name = cell(spec->input);
    unsigned kpi, line = spec->line ? spec->line : (unsigned)b->n_actuals + 2;
    bool oom = false;
    char c[64];

    b->n_actuals++;
    /* Exports list a KPI's inputs together: most rows name the KPI of the
     * row before, which costs a string compare instead of a lookup. */
    if (b->last_kpi != KPI_NONE && !strcmp(id, ds->indicators[b->last_kpi].id)) {
        kpi = b->last_kpi;
    } else if (kpi_strmap_get(&ds->ids, id, &kpi)) {
        b->last_kpi = kpi;
    } else {
        kpi_model_warn(ds, ACTUALS ":%u: actual for unknown indicator '%s' ignored", line,
                       kpi_model_clip(id, c));
        return 0;
    }
    struct kpi_indicator *k = &ds->indicators[kpi];
    unsigned number = input_name(b, name, &oom);
    if (oom)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (number == KPI_NONE) {
        set_invalid(ds, k,
                    ACTUALS ":%u: input name '%s' is not a Lua identifier "
                            "(letters, digits and '_', not starting with a digit, not "
                            "a keyword)",
                    line, kpi_model_clip(name, c));
        return 0;
    }
    double value = 0;
    const char *vtext = cell(spec->value);
    enum kpi_number_problem p = kpi_text_parse_number(vtext, &value);
    if (p != KPI_NUMBER_OK) {
        set_invalid(ds, k, ACTUALS ":%u: value '%s' of input '%s' %s", line,
                    kpi_model_clip(vtext, c), b->name_list[number].name,
                    kpi_text_number_problem(p));
        return 0;
    }
    if (kpi_model_grow((void **)&b->rows, &b->cap_rows, b->n_rows + 1, sizeof *b->rows))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    b->rows[b->n_rows++] = (struct raw_actual){kpi, line, number, value};
    return 0;
}

/* ---- each KPI's inputs -------------------------------------------------- */

static bool is_word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Notes, for each input name used as a word in the KPI's formula, where
 * it first occurs: a word is a maximal run of [A-Za-z0-9_]; one after a
 * '.' is a field access (`kpi.name`) and does not count. One pass over the
 * text, so the cost is the formula's length plus a lookup per word,
 * whatever the number of inputs. word: a buffer of strlen(formula) + 1. */
static void mark_formula_words(kpi_builder *b, unsigned kpi, const char *formula, char *word)
{
    for (const char *p = formula; *p;) {
        if (!is_word_char(*p)) {
            p++;
            continue;
        }
        const char *start = p;
        while (is_word_char(*p))
            p++;
        if (start > formula && start[-1] == '.')
            continue;
        unsigned number;
        memcpy(word, start, (size_t)(p - start));
        word[p - start] = '\0';
        if (kpi_strmap_get(&b->names, word, &number) && b->name_list[number].used_kpi != kpi) {
            b->name_list[number].used_kpi = kpi;
            b->name_list[number].used_at = (size_t)(start - formula);
        }
    }
}

static int compare_raw_actual(const void *x, const void *y)
{
    const struct raw_actual *a = x, *b = y;
    if (a->kpi != b->kpi)
        return a->kpi < b->kpi ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Ranks the n rows of one KPI (in line order) into display order and
 * flags duplicates: the first row of a name is stamped, a later one is a
 * duplicate of it. */
static void rank_inputs(kpi_builder *b, unsigned kpi, const struct raw_actual *rows, size_t n,
                        struct kpi_ranked_input *ranked)
{
    kpi_dataset *ds = b->ds;
    struct kpi_indicator *k = &ds->indicators[kpi];
    char c[64];

    for (size_t a = 0; a < n; a++) {
        const struct raw_actual *ra = &rows[a];
        struct name_state *ns = &b->name_list[ra->name];
        assert(ra->name < b->n_names && ra->kpi == kpi);
        if (ns->seen_kpi == kpi)
            set_invalid(ds, k,
                        ACTUALS ":%u: duplicate input '%s' for '%s'%s%s%s (first at line %u)",
                        ra->line, ns->name, k->id, ds->period ? " in period '" : "",
                        ds->period ? kpi_model_clip(ds->period, c) : "", ds->period ? "'" : "",
                        ns->seen_line);
        else
            ns->seen_kpi = kpi, ns->seen_line = ra->line;
        ranked[a].rank = ns->used_kpi == kpi ? ns->used_at : SIZE_MAX;
        ranked[a].input = (struct kpi_input){ns->name, ra->value, ra->line};
    }
    qsort(ranked, n, sizeof *ranked, kpi_input_display_order);
}

/* Hands each KPI its inputs in display order and flags duplicates. The
 * inputs are written over the raw rows, which are the same size, so the
 * dataset keeps one block and never holds both. Linear in the rows and
 * the formulas' lengths, plus the sort of each KPI's inputs: duplicates and
 * first uses are found through the per-name stamps, not by comparing. */
static int attach_inputs(kpi_builder *b, struct kpi_error *err)
{
    kpi_dataset *ds = b->ds;
    struct kpi_ranked_input *ranked = NULL;
    size_t cap_ranked = 0, cap_word = 0;
    char *word = NULL;
    int rc = 0;
    _Static_assert(sizeof(struct raw_actual) == sizeof(struct kpi_input),
                   "inputs are written over the raw rows");

    /* Rows come in line order; they need sorting only when a KPI's rows
     * are not together (qsort would take a copy of them all). */
    bool grouped = true;
    for (size_t i = 1; i < b->n_rows && grouped; i++)
        grouped = b->rows[i - 1].kpi <= b->rows[i].kpi;
    if (!grouped)
        qsort(b->rows, b->n_rows, sizeof *b->rows, compare_raw_actual);
    for (size_t i = 0, j; i < b->n_rows; i = j) {
        unsigned kpi = b->rows[i].kpi;
        for (j = i; j < b->n_rows && b->rows[j].kpi == kpi;)
            j++;
        struct kpi_indicator *k = &ds->indicators[kpi];
        size_t n = j - i;
        if (kpi_model_grow((void **)&ranked, &cap_ranked, n, sizeof *ranked) ||
            kpi_model_grow((void **)&word, &cap_word, strlen(k->formula) + 1, 1)) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        mark_formula_words(b, kpi, k->formula, word);
        rank_inputs(b, kpi, &b->rows[i], n, ranked);
        struct kpi_input *inputs = (struct kpi_input *)(void *)&b->rows[i];
        for (size_t a = 0; a < n; a++)
            memcpy(&inputs[a], &ranked[a].input, sizeof inputs[a]);
        k->inputs = inputs;
        k->n_inputs = (unsigned)n;
    }
out:
    free(ranked);
    free(word);
    return rc;
}

/* ---- composite KPIs ----------------------------------------------------- */

/* What the text of one formula (or scoring expression) reads, found once
 * for every KPI that shares the text. */
struct text_refs {
    const char **ids; /* the KPIs read, each once, in the order first read */
    unsigned n;
    bool scanned;
    size_t uses; /* uses of kpi_value outside strings and comments */
    size_t not_literal;
    const char *unknown;    /* the first id that is no KPI, or NULL */
    const char *suggestion; /* the id nearest to it, or NULL */
};

struct ref_collector {
    kpi_dataset *ds;
    struct kpi_strmap seen; /* ids read so far in this text */
    const char **ids;
    size_t n, cap;
    char *id; /* the id being looked up, terminated */
    size_t cap_id;
    const char *unknown;
};

static int collect_ref(void *ctx, const char *id, size_t len)
{
    struct ref_collector *c = ctx;
    unsigned index;

    if (kpi_model_grow((void **)&c->id, &c->cap_id, len + 1, 1))
        return -1;
    memcpy(c->id, id, len);
    c->id[len] = '\0';
    if (!kpi_strmap_get(&c->ds->ids, c->id, &index)) {
        if (!c->unknown && !(c->unknown = kpi_arena_strndup(&c->ds->arena, id, len)))
            return -1;
        return 0;
    }
    const char *stored = c->ds->indicators[index].id;
    int r = kpi_strmap_put(&c->seen, stored, 0, NULL, NULL);
    if (r < 0 || (r == 1 && kpi_model_grow((void **)&c->ids, &c->cap, c->n + 1, sizeof *c->ids)))
        return -1;
    if (r == 1)
        c->ids[c->n++] = stored;
    return 0;
}

/* Scans expression `id` into *r (its ids in the arena). 0 or -1. */
static int scan_text(kpi_dataset *ds, unsigned id, struct text_refs *r)
{
    struct ref_collector c = {.ds = ds};
    struct kpi_refs_scan found;
    int rc = 0;

    r->scanned = true;
    /* Most formulas never name it: no scan, no allocation. */
    if (!strstr(ds->expressions[id], KPI_REF_FUNCTION))
        return 0;
    kpi_strmap_init(&c.seen);
    if (kpi_refs_scan(ds->expressions[id], &found, collect_ref, &c)) {
        rc = -1;
        goto out;
    }
    r->uses = found.uses;
    r->not_literal = found.not_literal;
    r->unknown = c.unknown;
    if (c.n && !(r->ids = kpi_arena_alloc(&ds->arena, c.n * sizeof *r->ids))) {
        rc = -1;
        goto out;
    }
    if (c.n)
        memcpy(r->ids, c.ids, c.n * sizeof *r->ids);
    r->n = (unsigned)c.n;
    if (r->unknown) {
        struct kpi_suggest sg;
        kpi_suggest_init(&sg, r->unknown, strlen(r->unknown), false);
        for (size_t i = 0; i < ds->n_indicators; i++)
            kpi_suggest_offer(&sg, ds->indicators[i].id, 0);
        r->suggestion = kpi_suggest_pick(&sg);
    }
out:
    kpi_strmap_release(&c.seen);
    free(c.ids);
    free(c.id);
    return rc;
}

/* Each KPI's deps, from the kpi_value("ID") calls of its formula; a call
 * the plan cannot order (an id that is not a quoted literal, an id that
 * is no KPI, the KPI itself, a call in a scoring expression) makes the
 * KPI invalid. Each distinct text is scanned once. */
static int find_dependencies(kpi_dataset *ds, struct kpi_error *err)
{
    struct text_refs *refs = calloc(ds->n_expressions ? ds->n_expressions : 1, sizeof *refs);
    char c[64];
    int rc = 0;

    if (!refs)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (size_t i = 0; i < ds->n_indicators; i++) {
        struct kpi_indicator *k = &ds->indicators[i];
        if (!*k->formula) /* empty: not interned, and invalid already */
            continue;
        struct text_refs *r = &refs[k->formula_id];
        if (!r->scanned && scan_text(ds, k->formula_id, r)) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        k->deps = r->ids;
        k->n_deps = r->n;
        if (r->not_literal)
            set_invalid(ds, k,
                        INDICATORS ":%u: " KPI_REF_FUNCTION " needs the KPI id as a quoted "
                                   "literal, so the plan can order it",
                        k->line);
        if (r->unknown)
            set_invalid(ds, k, INDICATORS ":%u: " KPI_REF_FUNCTION ": no KPI '%s'%s%s%s", k->line,
                        kpi_model_clip(r->unknown, c), r->suggestion ? "; did you mean '" : "",
                        r->suggestion ? r->suggestion : "", r->suggestion ? "'?" : "");
        for (unsigned d = 0; d < k->n_deps; d++)
            if (k->deps[d] == k->id)
                set_invalid(ds, k, INDICATORS ":%u: dependency cycle: %s -> %s", k->line, k->id,
                            k->id);
        if (k->scoring != KPI_SCORING_EXPRESSION)
            continue;
        r = &refs[k->scoring_id];
        if (!r->scanned && scan_text(ds, k->scoring_id, r)) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        if (r->uses)
            set_invalid(ds, k,
                        INDICATORS ":%u: a scoring expression cannot call " KPI_REF_FUNCTION
                                   "; read the other KPI in the formula",
                        k->line);
    }
out:
    free(refs);
    return rc;
}

/* The KPIs each KPI reads, as indices into ds->indicators: the edges of the
 * dependency graph between KPIs that are not invalid (an invalid KPI reads
 * nothing), kpis i -> to[first[i] .. first[i + 1]). */
struct dep_graph {
    unsigned *first, *to;
    size_t n;
};

static int build_graph(const kpi_dataset *ds, struct dep_graph *g)
{
    size_t n_edges = 0, e = 0;

    g->n = ds->n_indicators;
    for (size_t i = 0; i < g->n; i++)
        if (!ds->indicators[i].invalid)
            n_edges += ds->indicators[i].n_deps;
    g->first = malloc((g->n + 1) * sizeof *g->first);
    g->to = malloc((n_edges ? n_edges : 1) * sizeof *g->to);
    if (!g->first || !g->to)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        const struct kpi_indicator *k = &ds->indicators[i];
        unsigned j;
        g->first[i] = (unsigned)e;
        for (unsigned d = 0; !k->invalid && d < k->n_deps; d++)
            if (kpi_strmap_get(&ds->ids, k->deps[d], &j) && j != KPI_NONE &&
                !ds->indicators[j].invalid)
                g->to[e++] = j;
    }
    g->first[g->n] = (unsigned)e;
    return 0;
}

/* Appends "A -> B -> ... -> A" for the cycle path[0..n) into buf, cut
 * with "..." when it does not fit. */
static void spell_cycle(const kpi_dataset *ds, const unsigned *path, size_t n, size_t start,
                        char *buf, size_t size)
{
    size_t used = strlen(buf);
    for (size_t i = 0; i <= n; i++) {
        const char *id = ds->indicators[path[(start + i) % n]].id;
        size_t need = strlen(id) + (i ? 4 : 0);
        if (used + need + 4 >= size) {
            memcpy(buf + used, " ...", 5);
            return;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " -> " : "", id);
    }
}

/* The shortest cycle through m within its component comp[m]: its KPIs
 * from m on, in path (n of them). from and queue are scratch of g->n
 * entries, from all KPI_NONE on entry and on return. */
static size_t shortest_cycle(const struct dep_graph *g, const unsigned *comp, unsigned m,
                             unsigned *from, unsigned *queue, unsigned *path)
{
    size_t head = 0, tail = 0, n = 0;
    unsigned last = KPI_NONE;

    queue[tail++] = m;
    from[m] = m;
    while (head < tail && last == KPI_NONE) {
        unsigned v = queue[head++];
        for (unsigned e = g->first[v]; e < g->first[v + 1]; e++) {
            unsigned w = g->to[e];
            if (w == m) {
                last = v;
                break;
            }
            if (comp[w] == comp[m] && from[w] == KPI_NONE) {
                from[w] = v;
                queue[tail++] = w;
            }
        }
    }
    assert(last != KPI_NONE); /* every KPI of a component is on a cycle */
    for (unsigned v = last; v != m; v = from[v])
        path[n++] = v;
    path[n++] = m;
    for (size_t i = 0; i < n / 2; i++) { /* m first */
        unsigned t = path[i];
        path[i] = path[n - 1 - i];
        path[n - 1 - i] = t;
    }
    for (size_t i = 0; i < tail; i++)
        from[queue[i]] = KPI_NONE;
    return n;
}

/* Makes every KPI of a component of more than one KPI invalid, naming a
 * cycle through it. The first KPI's cycle serves every KPI on it (turned
 * to start there); another KPI of the component gets a search of its own. */
static void report_component(kpi_dataset *ds, const struct dep_graph *g, const unsigned *comp,
                             const unsigned *members, size_t n_members, unsigned *scratch)
{
    unsigned *from = scratch, *queue = scratch + g->n, *cycle = scratch + 2 * g->n,
             *path = scratch + 3 * g->n, *place = scratch + 4 * g->n;
    char buf[KPI_KPI_MESSAGE_MAX];
    unsigned m0 = members[0];

    /* By id, not by row: the cycles spelled do not depend on row order. */
    for (size_t i = 1; i < n_members; i++)
        if (strcmp(ds->indicators[members[i]].id, ds->indicators[m0].id) < 0)
            m0 = members[i];
    size_t n_cycle = shortest_cycle(g, comp, m0, from, queue, cycle);
    for (size_t i = 0; i < n_cycle; i++)
        place[cycle[i]] = (unsigned)i;
    for (size_t i = 0; i < n_members; i++) {
        unsigned m = members[i];
        struct kpi_indicator *k = &ds->indicators[m];
        memcpy(buf, "dependency cycle: ", sizeof "dependency cycle: ");
        if (place[m] != KPI_NONE) {
            spell_cycle(ds, cycle, n_cycle, place[m], buf, sizeof buf);
        } else {
            size_t n = shortest_cycle(g, comp, m, from, queue, path);
            spell_cycle(ds, path, n, 0, buf, sizeof buf);
        }
        set_invalid(ds, k, INDICATORS ":%u: %s", k->line, buf);
    }
    for (size_t i = 0; i < n_cycle; i++)
        place[cycle[i]] = KPI_NONE;
}

/* A frame of the depth-first search: a KPI and its next edge. */
struct frame {
    unsigned kpi, edge;
};

/* Finds the KPIs that read each other in a circle (Tarjan's strongly
 * connected components, without recursion: a chain of a million KPIs is
 * a million frames) and makes each invalid, so that the plan is built on
 * a graph without cycles. O(KPIs + edges), and nothing when no KPI reads
 * another. A KPI that reads itself was found by find_dependencies. */
static int find_cycles(kpi_dataset *ds, struct kpi_error *err)
{
    struct dep_graph g = {0};
    unsigned *order = NULL, *low = NULL, *stack = NULL, *comp = NULL, *scratch = NULL;
    struct frame *frames = NULL;
    size_t n = ds->n_indicators, sp = 0, fp = 0;
    unsigned counter = 0, n_comp = 0;
    bool any = false;
    int rc = 0;

    for (size_t i = 0; i < n && !any; i++)
        any = ds->indicators[i].n_deps && !ds->indicators[i].invalid;
    if (!any)
        return 0;
    order = calloc(n, sizeof *order); /* 0: not visited; else visit number + 1 */
    low = malloc(n * sizeof *low);
    stack = malloc(n * sizeof *stack);
    comp = malloc(n * sizeof *comp);
    frames = malloc(n * sizeof *frames);
    scratch = malloc(5 * n * sizeof *scratch);
    if (!order || !low || !stack || !comp || !frames || !scratch || build_graph(ds, &g)) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        comp[i] = KPI_NONE;
        scratch[i] = KPI_NONE;         /* from */
        scratch[4 * n + i] = KPI_NONE; /* place */
    }
    for (unsigned root = 0; root < n; root++) {
        if (order[root])
            continue;
        frames[fp++] = (struct frame){root, g.first[root]};
        order[root] = low[root] = ++counter;
        stack[sp++] = root;
        while (fp) {
            struct frame *f = &frames[fp - 1];
            unsigned v = f->kpi;
            if (f->edge < g.first[v + 1]) {
                unsigned w = g.to[f->edge++];
                if (!order[w]) {
                    order[w] = low[w] = ++counter;
                    stack[sp++] = w;
                    frames[fp++] = (struct frame){w, g.first[w]};
                } else if (comp[w] == KPI_NONE && order[w] < low[v]) {
                    low[v] = order[w]; /* w is on the stack */
                }
                continue;
            }
            fp--;
            if (fp && low[v] < low[frames[fp - 1].kpi])
                low[frames[fp - 1].kpi] = low[v];
            if (low[v] != order[v])
                continue;
            size_t base = sp;
            do
                comp[stack[--base]] = n_comp;
            while (stack[base] != v);
            if (sp - base > 1)
                report_component(ds, &g, comp, stack + base, sp - base, scratch);
            sp = base;
            n_comp++;
        }
    }
out:
    free(g.first);
    free(g.to);
    free(order);
    free(low);
    free(stack);
    free(comp);
    free(frames);
    free(scratch);
    return rc;
}

/* The plan checks of docs/reports.md, as warnings in file order: what a
 * plan should not hold though a run can go on with it. */
static void plan_checks(kpi_dataset *ds)
{
    char t[KPI_NUMBER_BUF], bl[KPI_NUMBER_BUF];

    for (size_t i = 0; i < ds->n_indicators; i++) {
        const struct kpi_indicator *k = &ds->indicators[i];
        bool decrease = k->direction == KPI_DIRECTION_DECREASE;
        if (k->invalid) /* its problem is reported already */
            continue;
        if (k->has_baseline && (decrease ? k->target >= k->baseline : k->target <= k->baseline))
            kpi_model_warn(ds,
                           INDICATORS ":%u: '%s': the target %s is %s the baseline %s of a KPI "
                           "to %s: the plan asks for no progress on last year",
                           k->line, k->id, kpi_text_format_number(k->target, t),
                           k->target == k->baseline ? "equal to"
                           : decrease               ? "above"
                                                    : "below",
                           kpi_text_format_number(k->baseline, bl),
                           decrease ? "decrease" : "increase");
        if (k->weight == 0)
            kpi_model_warn(ds,
                           INDICATORS ":%u: '%s' has weight 0: it counts for nothing in its "
                           "department's achievement",
                           k->line, k->id);
        for (unsigned a = 0; k->declared && a < k->n_inputs; a++)
            if (!kpi_indicator_declares(k, k->inputs[a].name))
                kpi_model_warn(ds,
                               ACTUALS ":%u: input '%s' of '%s' is not among the inputs its row "
                               "in " INDICATORS " declares (%s): a misspelt name, or add it there",
                               k->inputs[a].line, k->inputs[a].name, k->id, k->declared);
        if (k->n_inputs == 0 && k->n_deps == 0)
            kpi_model_warn(ds, INDICATORS ":%u: '%s' has no rows in " ACTUALS "%s%s%s", k->line,
                           k->id, ds->period ? " for period '" : "",
                           ds->period ? ds->period : "", ds->period ? "'" : "");
    }
}

/* The one rule of which names if_missing zero may fill: a known input
 * name, one that actuals.csv has as an input of any KPI in any period
 * (the loader notes those of other periods). A declared input of k will
 * is one too (the inputs column). Returns the interned
 * name, or NULL. */
static const char *known_input(void *ctx, const struct kpi_indicator *k, const char *name)
{
    kpi_builder *b = ctx;
    unsigned number;
    if (kpi_strmap_find(&b->names, name, &number))
        return b->name_list[number].name;
    /* a name the KPI declares (the inputs column) is an input too */
    return kpi_indicator_declares(k, name) ? kpi_model_intern_text(b->ds, name) : NULL;
}

int kpi_builder_finish(kpi_builder *b, kpi_dataset **out, struct kpi_error *err)
{
    kpi_dataset *ds = b->ds;
    int rc;

    *out = NULL;
    if (!ds || ds->n_indicators == 0)
        return kpi_error_set(err, KPI_EINPUT, "no indicators");
    if (b->n_rows < b->cap_rows) { /* the block is kept as the inputs: no slack */
        struct raw_actual *shrunk = realloc(b->rows, b->n_rows * sizeof *b->rows);
        if (shrunk) {
            b->rows = shrunk;
            b->cap_rows = b->n_rows;
        }
    }
    if ((rc = kpi_model_build_tree(ds, err)) || (rc = attach_inputs(b, err)))
        return rc;
    ds->inputs = (struct kpi_input *)(void *)b->rows; /* the rows are the inputs now */
    b->rows = NULL;
    b->n_rows = b->cap_rows = 0;
    if ((rc = find_dependencies(ds, err)) || (rc = find_cycles(ds, err)))
        return rc;
    plan_checks(ds);
    for (size_t i = 0; i < ds->n_indicators; i++)
        if (kpi_missing_fill(&ds->arena, &ds->indicators[i], known_input, b))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    kpi_model_sort(ds);
    *out = ds;
    b->ds = NULL;
    return 0;
}
