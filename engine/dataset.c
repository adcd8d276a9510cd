#include "kpieval/dataset.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "csv_reader.h"
#include "strmap.h"
#include "text.h"

struct kpi_dataset {
    struct kpi_arena arena;
    char *dir;

    struct kpi_indicator *indicators;
    size_t n_indicators, cap_indicators;
    struct kpi_strmap ids; /* id -> indicator index */

    const char **expressions;
    size_t n_expressions, cap_expressions;
    struct kpi_strmap expression_ids;
    struct kpi_strmap texts;            /* units and other repeated short texts */
    struct kpi_input *inputs;           /* every KPI's inputs, one block */

    struct kpi_department *departments;
    size_t n_departments, n_departments_total;
    struct kpi_strmap department_paths; /* path -> first-seen index, then node index */
    const char **seen_paths;            /* distinct department paths in first-seen order */
    size_t n_seen_paths, cap_seen_paths;

    const char **extra_columns;
    size_t n_extra_columns;

    const char *period;

    const char **warnings;
    size_t n_warnings, total_warnings;
};

/* ---- small helpers ---------------------------------------------------- */

static int grow_array(void **array, size_t *cap, size_t need, size_t elem)
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

#define KPI_KPI_MESSAGE_MAX 512 /* bytes in a KPI message, with its NUL */

static const char *arena_vprintf(struct kpi_arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static const char *arena_vprintf(struct kpi_arena *a, const char *fmt, va_list ap)
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

static const char *arena_dup(struct kpi_arena *a, const char *s)
{
    return kpi_arena_strndup(a, s, strlen(s));
}

/* Shortens a cell for quoting in a message. */
static const char *clip(const char *s, char buf[64])
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

/* Counts a warning; only the first KPI_WARNINGS_KEPT are formatted and
 * kept, so a file of ten million bad rows does not fill the arena. */
static void add_warning(kpi_dataset *ds, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_warning(kpi_dataset *ds, const char *fmt, ...)
{
    ds->total_warnings++;
    if (ds->n_warnings < KPI_WARNINGS_KEPT) {
        va_list ap;
        va_start(ap, fmt);
        const char *text = arena_vprintf(&ds->arena, fmt, ap);
        va_end(ap);
        if (text)
            ds->warnings[ds->n_warnings++] = text;
    }
}

/* Number of a distinct expression text, adding it when new; *stored is
 * the one copy of the text that every KPI using it shares. */
static int intern_expression(kpi_dataset *ds, const char *text, unsigned *id,
                             const char **stored)
{
    if (kpi_strmap_get(&ds->expression_ids, text, id)) {
        *stored = ds->expressions[*id];
        return 0;
    }
    if (!(text = arena_dup(&ds->arena, text)))
        return -1;
    if (kpi_strmap_put(&ds->expression_ids, text, (unsigned)ds->n_expressions, NULL, NULL) < 0)
        return -1;
    if (grow_array((void **)&ds->expressions, &ds->cap_expressions, ds->n_expressions + 1,
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
static const char *intern_department(kpi_dataset *ds, const char *path)
{
    const char *stored = kpi_strmap_find(&ds->department_paths, path, NULL);
    if (stored)
        return stored;
    char *copy = kpi_arena_strndup(&ds->arena, path, strlen(path));
    if (!copy ||
        kpi_strmap_put(&ds->department_paths, copy, (unsigned)ds->n_seen_paths, NULL, NULL) < 0 ||
        grow_array((void **)&ds->seen_paths, &ds->cap_seen_paths, ds->n_seen_paths + 1,
                   sizeof *ds->seen_paths))
        return NULL;
    ds->seen_paths[ds->n_seen_paths++] = copy;
    return copy;
}

/* One shared copy of short repeated texts such as units. */
static const char *intern_text(kpi_dataset *ds, const char *text)
{
    const char *stored = kpi_strmap_find(&ds->texts, text, NULL);
    if (stored)
        return stored;
    if (!(stored = arena_dup(&ds->arena, text)) || kpi_strmap_put(&ds->texts, stored, 0, NULL, NULL) < 0)
        return NULL;
    return stored;
}

/* ---- header handling ---------------------------------------------------- */

struct column {
    const char *name;
    bool required;
};

/* Maps each known column to its field index (or -1); other columns are
 * extras. Fails on duplicate or empty names and missing required ones.
 * Duplicates are found through a map: a header of a thousand long names
 * costs its length, not its length times a thousand. */
static int map_header(const struct kpi_csv_row *row, const struct column *cols, size_t ncols,
                      int *index, bool *is_extra, struct kpi_error *err)
{
    struct kpi_strmap seen;
    int rc = 0;

    kpi_strmap_init(&seen);
    for (size_t c = 0; c < ncols; c++)
        index[c] = -1;
    for (size_t f = 0; f < row->nfields; f++) {
        const char *h = row->fields[f];
        unsigned first;
        is_extra[f] = true;
        if (!*h) {
            rc = kpi_error_set(err, KPI_EINPUT, "%s:%u: column %zu has an empty header name",
                               row->file, row->line, f + 1);
            goto out;
        }
        int r = kpi_strmap_put(&seen, h, (unsigned)f, &first, NULL);
        if (r < 0) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        if (r == 0) {
            rc = kpi_error_set(err, KPI_EINPUT, "%s:%u: duplicate column '%s' (columns %u and %zu)",
                               row->file, row->line, h, first + 1, f + 1);
            goto out;
        }
        for (size_t c = 0; c < ncols; c++) {
            if (!strcmp(cols[c].name, h)) {
                index[c] = (int)f;
                is_extra[f] = false;
            }
        }
    }
    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].required && index[c] < 0) {
            rc = kpi_error_set(err, KPI_EINPUT, "%s:%u: missing required column '%s'", row->file,
                               row->line, cols[c].name);
            goto out;
        }
    }
out:
    kpi_strmap_release(&seen);
    return rc;
}

/* ---- indicators.csv ----------------------------------------------------- */

enum {
    COL_ID,
    COL_NAME,
    COL_DEPARTMENT,
    COL_UNIT,
    COL_DIRECTION,
    COL_BASELINE,
    COL_TARGET,
    COL_FORMULA,
    COL_WEIGHT,
    COL_SCORING,
    N_INDICATOR_COLUMNS
};

static const struct column indicator_columns[N_INDICATOR_COLUMNS] = {
    [COL_ID] = {"id", true},
    [COL_NAME] = {"name", true},
    [COL_DEPARTMENT] = {"department", true},
    [COL_UNIT] = {"unit", false},
    [COL_DIRECTION] = {"direction", false},
    [COL_BASELINE] = {"baseline", false},
    [COL_TARGET] = {"target", true},
    [COL_FORMULA] = {"formula", true},
    [COL_WEIGHT] = {"weight", false},
    [COL_SCORING] = {"scoring", false},
};

struct indicator_loader {
    kpi_dataset *ds;
    int col[N_INDICATOR_COLUMNS];
    bool is_extra[KPI_CSV_FIELDS_MAX];
    size_t *extra_fields; /* field index of each extra column */
};

/* The cell of an optional column, or "" when the file lacks the column. */
static char *field(const struct kpi_csv_row *row, int index)
{
    static char empty[1];
    return index < 0 ? empty : row->fields[index];
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

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
    const char *message = arena_vprintf(&ds->arena, fmt, ap);
    va_end(ap);
    k->invalid = message ? message : "invalid";
}

static const struct kpi_bad_cells all_cells_read = {NULL, NULL, NULL, NULL};

/* The KPI's own record of unreadable cells, made on first need. */
static struct kpi_bad_cells *bad_cells(kpi_dataset *ds, struct kpi_indicator *k)
{
    if (k->bad == &all_cells_read) {
        struct kpi_bad_cells *b = kpi_arena_alloc(&ds->arena, sizeof *b);
        if (!b)
            return NULL;
        *b = all_cells_read;
        k->bad = b;
    }
    return (struct kpi_bad_cells *)(uintptr_t)k->bad;
}

/* Keeps an unreadable cell as written (which: offset of its member). */
static void keep_bad_cell(kpi_dataset *ds, struct kpi_indicator *k, size_t which,
                          const char *cell)
{
    struct kpi_bad_cells *b = bad_cells(ds, k);
    if (b)
        *(const char **)(void *)((char *)b + which) = arena_dup(&ds->arena, cell);
}

/* Reads a number cell; on failure the KPI is invalid and the cell is kept
 * as written (which: its member in struct kpi_bad_cells). */
static void parse_number_cell(kpi_dataset *ds, struct kpi_indicator *k,
                              const struct kpi_csv_row *row, const char *column, const char *cell,
                              double *out, size_t which)
{
    char c[64];
    enum kpi_number_problem p = kpi_text_parse_number(cell, out);
    if (p != KPI_NUMBER_OK) {
        set_invalid(ds, k, "%s:%u: %s '%s' %s", row->file, row->line, column, clip(cell, c),
                    kpi_text_number_problem(p));
        keep_bad_cell(ds, k, which, cell);
    }
}

static int on_indicator_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct indicator_loader *L = ctx;
    kpi_dataset *ds = L->ds;
    struct kpi_indicator *k;
    char c[64];
    unsigned existing;
    const char *text;
    int r;

    if (row->index == 0) {
        int rc = map_header(row, indicator_columns, N_INDICATOR_COLUMNS, L->col, L->is_extra, err);
        if (rc)
            return rc;
        ds->extra_columns = calloc(row->nfields, sizeof *ds->extra_columns);
        L->extra_fields = calloc(row->nfields, sizeof *L->extra_fields);
        if (!ds->extra_columns || !L->extra_fields)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        for (size_t f = 0; f < row->nfields; f++) {
            if (!L->is_extra[f])
                continue;
            L->extra_fields[ds->n_extra_columns] = f;
            ds->extra_columns[ds->n_extra_columns] = arena_dup(&ds->arena, row->fields[f]);
            if (!ds->extra_columns[ds->n_extra_columns])
                return kpi_error_set(err, KPI_ENOMEM, "out of memory");
            ds->n_extra_columns++;
        }
        return 0;
    }

    if (grow_array((void **)&ds->indicators, &ds->cap_indicators, ds->n_indicators + 1,
                   sizeof *ds->indicators))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    k = &ds->indicators[ds->n_indicators];
    memset(k, 0, sizeof *k);
    k->line = row->line;
    k->scoring_id = KPI_NONE;
    k->department_id = KPI_NONE;
    k->bad = &all_cells_read;

    /* id, name, department: problems here stop the run. */
    text = trim(row->fields[L->col[COL_ID]]);
    if (!kpi_text_is_kpi_id(text))
        return kpi_error_set(err, KPI_EINPUT,
                             "%s:%u: id '%s' %s; use letters, digits, '.', '_' and '-'", row->file,
                             row->line, clip(text, c), *text ? "has a character not allowed" : "is empty");
    if (!(k->id = arena_dup(&ds->arena, text)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    r = kpi_strmap_put(&ds->ids, k->id, (unsigned)ds->n_indicators, &existing, NULL);
    if (r < 0)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (r == 0)
        return kpi_error_set(err, KPI_EINPUT, "%s:%u: duplicate id '%s' (first at line %u)",
                             row->file, row->line, k->id, ds->indicators[existing].line);

    /* The name is shown as written (a quoted name keeps its spaces). */
    text = row->fields[L->col[COL_NAME]];
    if (!*text)
        return kpi_error_set(err, KPI_EINPUT, "%s:%u: name of '%s' is empty", row->file,
                             row->line, k->id);
    if (!(k->name = arena_dup(&ds->arena, text)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");

    text = trim(row->fields[L->col[COL_DEPARTMENT]]);
    {
        const char *problem = department_problem(text);
        if (problem)
            return kpi_error_set(err, KPI_EINPUT, "%s:%u: department '%s' of '%s' %s", row->file,
                                 row->line, clip(text, c), k->id, problem);
        if (!(k->department = intern_department(ds, text)))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }

    text = trim(field(row, L->col[COL_UNIT]));
    k->unit = *text ? intern_text(ds, text) : "";
    if (!k->unit)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");

    /* Everything below only makes this KPI invalid. */
    text = trim(field(row, L->col[COL_DIRECTION]));
    if (!*text || !strcmp(text, "increase")) {
        k->direction = KPI_DIRECTION_INCREASE;
    } else if (!strcmp(text, "decrease")) {
        k->direction = KPI_DIRECTION_DECREASE;
    } else {
        set_invalid(ds, k, "%s:%u: direction '%s' is not 'increase' or 'decrease'", row->file,
                    row->line, clip(text, c));
        keep_bad_cell(ds, k, offsetof(struct kpi_bad_cells, direction), text);
    }

    text = trim(field(row, L->col[COL_BASELINE]));
    if (*text && strcmp(text, "-")) {
        k->has_baseline = true;
        parse_number_cell(ds, k, row, "baseline", text, &k->baseline,
                          offsetof(struct kpi_bad_cells, baseline));
    }

    text = trim(row->fields[L->col[COL_TARGET]]);
    parse_number_cell(ds, k, row, "target", text, &k->target,
                      offsetof(struct kpi_bad_cells, target));

    k->weight = 1;
    text = trim(field(row, L->col[COL_WEIGHT]));
    if (*text) {
        parse_number_cell(ds, k, row, "weight", text, &k->weight,
                          offsetof(struct kpi_bad_cells, weight));
        if (k->weight < 0 || k->weight > KPI_WEIGHT_MAX) {
            set_invalid(ds, k, "%s:%u: weight '%s' is %s", row->file, row->line, clip(text, c),
                        k->weight < 0 ? "negative" : "larger than " KPI_STR(KPI_WEIGHT_MAX));
            keep_bad_cell(ds, k, offsetof(struct kpi_bad_cells, weight), text);
        }
    }

    text = trim(row->fields[L->col[COL_FORMULA]]);
    if (!*text) {
        k->formula = "";
        set_invalid(ds, k, "%s:%u: formula is empty", row->file, row->line);
    } else if (intern_expression(ds, text, &k->formula_id, &k->formula)) {
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }

    text = trim(field(row, L->col[COL_SCORING]));
    if (!*text) {
        k->scoring = KPI_SCORING_RATIO;
    } else if (!strcmp(text, "linear")) {
        k->scoring = KPI_SCORING_LINEAR;
    } else if (!strcmp(text, "baseline")) {
        k->scoring = KPI_SCORING_BASELINE;
        if (!k->has_baseline)
            set_invalid(ds, k, "%s:%u: scoring 'baseline' needs a baseline, and it is empty",
                        row->file, row->line);
    } else if (!strcmp(text, "binary")) {
        k->scoring = KPI_SCORING_BINARY;
    } else {
        k->scoring = KPI_SCORING_EXPRESSION;
        if (intern_expression(ds, text, &k->scoring_id, &k->scoring_text))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }

    if (ds->n_extra_columns) {
        const char **extra = kpi_arena_alloc(&ds->arena, ds->n_extra_columns * sizeof *extra);
        if (!extra)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        for (size_t e = 0; e < ds->n_extra_columns; e++) {
            extra[e] = arena_dup(&ds->arena, row->fields[L->extra_fields[e]]);
            if (!extra[e])
                return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        }
        k->extra = extra;
    }
    ds->n_indicators++;
    return 0;
}

/* ---- actuals.csv -------------------------------------------------------- */

enum { COL_INDICATOR, COL_INPUT, COL_VALUE, COL_PERIOD, N_ACTUAL_COLUMNS };

static const struct column actual_columns[N_ACTUAL_COLUMNS] = {
    [COL_INDICATOR] = {"indicator", true},
    [COL_INPUT] = {"input", true},
    [COL_VALUE] = {"value", true},
    [COL_PERIOD] = {"period", false},
};

struct raw_actual {
    unsigned kpi;
    unsigned line;
    unsigned name; /* number of the interned name */
    double value;
};

/* What attach_inputs knows of each distinct input name, by its number.
 * Fields are stamped with the KPI they were set for, so they need no
 * clearing between KPIs. */
struct name_state {
    const char *name;
    unsigned seen_kpi;  /* the last KPI with a row for this name */
    unsigned seen_line; /* that row's line */
    unsigned used_kpi;  /* the last KPI whose formula uses the name */
    size_t used_at;     /* where it first occurs in that formula */
};

struct actual_loader {
    kpi_dataset *ds;
    const char *want_period; /* NULL: all rows, and there must be one period */
    int col[N_ACTUAL_COLUMNS];
    bool is_extra[KPI_CSV_FIELDS_MAX];
    struct kpi_strmap names; /* interned input name -> its number */
    struct name_state *name_list;
    size_t n_names, cap_names;
    struct kpi_strmap periods; /* distinct periods seen */
    const char **period_list;
    size_t n_periods, cap_periods;
    bool period_matched;
    size_t rows_read;          /* data rows, whatever their period */
    struct raw_actual *rows;
    size_t n_rows, cap_rows;
    unsigned last_kpi;         /* the KPI of the previous row, or KPI_NONE */
};

static int on_actual_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct actual_loader *L = ctx;
    kpi_dataset *ds = L->ds;
    const char *id, *name, *period;
    unsigned kpi;
    char c[64];

    if (row->index == 0)
        return map_header(row, actual_columns, N_ACTUAL_COLUMNS, L->col, L->is_extra, err);
    L->rows_read++;

    period = trim(field(row, L->col[COL_PERIOD]));
    if (L->col[COL_PERIOD] >= 0) {
        const char *copy = NULL;
        unsigned seen;
        if (!kpi_strmap_get(&L->periods, period, &seen)) {
            if (!(copy = arena_dup(&ds->arena, period)) ||
                kpi_strmap_put(&L->periods, copy, 0, NULL, NULL) < 0 ||
                grow_array((void **)&L->period_list, &L->cap_periods, L->n_periods + 1,
                           sizeof *L->period_list))
                return kpi_error_set(err, KPI_ENOMEM, "out of memory");
            L->period_list[L->n_periods++] = copy;
        }
        if (L->want_period) {
            if (strcmp(period, L->want_period))
                return 0;
            L->period_matched = true;
        }
    }

    id = trim(row->fields[L->col[COL_INDICATOR]]);
    /* Exports list a KPI's inputs together: most rows name the KPI of the
     * row before, which costs a string compare instead of a lookup. */
    if (L->last_kpi != KPI_NONE && !strcmp(id, ds->indicators[L->last_kpi].id)) {
        kpi = L->last_kpi;
    } else if (kpi_strmap_get(&ds->ids, id, &kpi)) {
        L->last_kpi = kpi;
    } else {
        add_warning(ds, "%s:%u: actual for unknown indicator '%s' ignored", row->file, row->line,
                    clip(id, c));
        return 0;
    }
    struct kpi_indicator *k = &ds->indicators[kpi];

    /* Only valid names are interned: a name seen before needs no check. */
    name = trim(row->fields[L->col[COL_INPUT]]);
    unsigned number;
    const char *stored = kpi_strmap_find(&L->names, name, &number);
    if (!stored) {
        if (!kpi_text_is_lua_name(name)) {
            set_invalid(ds, k,
                        "%s:%u: input name '%s' is not a Lua identifier "
                        "(letters, digits and '_', not starting with a digit, not "
                        "a keyword)",
                        row->file, row->line, clip(name, c));
            return 0;
        }
        char *copy = kpi_arena_strndup(&ds->arena, name, strlen(name));
        number = (unsigned)L->n_names;
        if (!copy || kpi_strmap_put(&L->names, copy, number, NULL, NULL) < 0 ||
            grow_array((void **)&L->name_list, &L->cap_names, L->n_names + 1, sizeof *L->name_list))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        L->name_list[L->n_names++] = (struct name_state){copy, KPI_NONE, 0, KPI_NONE, 0};
        stored = copy;
    }

    double value = 0;
    const char *vtext = trim(row->fields[L->col[COL_VALUE]]);
    enum kpi_number_problem p = kpi_text_parse_number(vtext, &value);
    if (p != KPI_NUMBER_OK) {
        set_invalid(ds, k, "%s:%u: value '%s' of input '%s' %s", row->file, row->line,
                    clip(vtext, c), stored, kpi_text_number_problem(p));
        return 0;
    }
    if (grow_array((void **)&L->rows, &L->cap_rows, L->n_rows + 1, sizeof *L->rows))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    L->rows[L->n_rows++] = (struct raw_actual){kpi, row->line, number, value};
    return 0;
}

static bool is_word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Notes, for each input name used as a word in the KPI's formula, where
 * it first occurs: a word is a maximal run of [A-Za-z0-9_]; one after a
 * '.' is a field access (`kpi.name`) and does not count. One pass over the
 * text, so the cost is the formula's length plus a lookup per word,
 * whatever the number of inputs. word: a buffer of strlen(formula) + 1. */
static void mark_formula_words(struct actual_loader *L, unsigned kpi, const char *formula,
                               char *word)
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
        if (kpi_strmap_get(&L->names, word, &number) && L->name_list[number].used_kpi != kpi) {
            L->name_list[number].used_kpi = kpi;
            L->name_list[number].used_at = (size_t)(start - formula);
        }
    }
}

struct ranked_input {
    size_t rank;
    struct kpi_input input;
};

static int compare_ranked(const void *a, const void *b)
{
    const struct ranked_input *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    int c = strcmp(x->input.name, y->input.name);
    if (c)
        return c;
    return x->input.line < y->input.line ? -1 : x->input.line > y->input.line;
}

static int compare_raw_actual(const void *a, const void *b)
{
    const struct raw_actual *x = a, *y = b;
    if (x->kpi != y->kpi)
        return x->kpi < y->kpi ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Hands each KPI its inputs in display order and flags duplicates. The
 * inputs are written over the raw rows, which are the same size, so the
 * dataset keeps one block and never holds both. Linear in the rows and
 * the formulas' lengths, plus the sort of each KPI's inputs: duplicates and
 * first uses are found through the per-name stamps, not by comparing. */
static int attach_inputs(kpi_dataset *ds, struct actual_loader *L, struct kpi_error *err)
{
    struct ranked_input *ranked = NULL;
    size_t cap_ranked = 0, cap_word = 0;
    char *word = NULL;
    char c[64];
    int rc = 0;
    _Static_assert(sizeof(struct raw_actual) == sizeof(struct kpi_input),
                   "inputs are written over the raw rows");

    /* Rows come in line order; they need sorting only when a KPI's rows
     * are not together (qsort would take a copy of them all). */
    bool grouped = true;
    for (size_t i = 1; i < L->n_rows && grouped; i++)
        grouped = L->rows[i - 1].kpi <= L->rows[i].kpi;
    if (!grouped)
        qsort(L->rows, L->n_rows, sizeof *L->rows, compare_raw_actual);
    for (size_t i = 0; i < L->n_rows;) {
        size_t j = i;
        unsigned kpi = L->rows[i].kpi;
        while (j < L->n_rows && L->rows[j].kpi == kpi)
            j++;
        struct kpi_indicator *k = &ds->indicators[kpi];
        size_t n = j - i, flen = strlen(k->formula);
        struct kpi_input *inputs = (struct kpi_input *)(void *)&L->rows[i];
        if (grow_array((void **)&ranked, &cap_ranked, n, sizeof *ranked) ||
            grow_array((void **)&word, &cap_word, flen + 1, 1)) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        mark_formula_words(L, kpi, k->formula, word);
        for (size_t a = 0; a < n; a++) {
            const struct raw_actual *ra = &L->rows[i + a];
            struct name_state *ns = &L->name_list[ra->name];
            assert(ra->name < L->n_names);
            /* Rows are in line order: the first row of a name is stamped,
             * a later one is a duplicate of it. */
            if (ns->seen_kpi == kpi)
                set_invalid(ds, k,
                            "actuals.csv:%u: duplicate input '%s' for '%s'%s%s%s "
                            "(first at line %u)",
                            ra->line, ns->name, k->id, ds->period ? " in period '" : "",
                            ds->period ? clip(ds->period, c) : "", ds->period ? "'" : "",
                            ns->seen_line);
            else
                ns->seen_kpi = kpi, ns->seen_line = ra->line;
            ranked[a].rank = ns->used_kpi == kpi ? ns->used_at : SIZE_MAX;
            ranked[a].input = (struct kpi_input){ns->name, ra->value, ra->line};
        }
        qsort(ranked, n, sizeof *ranked, compare_ranked);
        for (size_t a = 0; a < n; a++)
            memcpy(&inputs[a], &ranked[a].input, sizeof inputs[a]);
        k->inputs = inputs;
        k->n_inputs = (unsigned)n;
        i = j;
    }
out:
    free(ranked);
    free(word);
    return rc;
}

static int compare_period(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "'2018', '2019'" for messages, clipped to the buffer. */
static void list_periods(const char *const *periods, size_t n, char *buf, size_t size)
{
    size_t o = 0, i;
    char c[64];
    buf[0] = '\0';
    for (i = 0; i < n && o + 80 < size; i++) {
        int k = snprintf(buf + o, size - o, "%s'%s'", i ? ", " : "", clip(periods[i], c));
        o += k > 0 ? (size_t)k : 0;
    }
    if (i < n)
        snprintf(buf + o, size - o, ", ...");
}

static int load_actuals(kpi_dataset *ds, const char *path, const char *want_period,
                        struct kpi_error *err)
{
    struct actual_loader L = {.ds = ds, .want_period = want_period, .last_kpi = KPI_NONE};
    int rc;

    kpi_strmap_init(&L.names);
    kpi_strmap_init(&L.periods);
    rc = kpi_csv_read(path, "actuals.csv", on_actual_row, &L, err);
    if (rc)
        goto out;
    if (L.rows_read == 0) {
        rc = kpi_error_set(err, KPI_EINPUT, "actuals.csv: no actuals: the file has only a header");
        goto out;
    }
    if (L.n_periods)
        qsort(L.period_list, L.n_periods, sizeof *L.period_list, compare_period);
    if (want_period) {
        if (L.col[COL_PERIOD] < 0) {
            rc = kpi_error_set(err, KPI_EUSAGE,
                               "actuals.csv: --period '%s' given, but the file has no 'period' "
                               "column",
                               want_period);
            goto out;
        }
        if (!L.period_matched) {
            char list[512];
            list_periods(L.period_list, L.n_periods, list, sizeof list);
            rc = kpi_error_set(err, KPI_EUSAGE,
                               "actuals.csv: no rows for period '%s' (periods found: %s)",
                               want_period, L.n_periods ? list : "none");
            goto out;
        }
        ds->period = arena_dup(&ds->arena, want_period);
    } else if (L.n_periods > 1) {
        char list[512];
        list_periods(L.period_list, L.n_periods, list, sizeof list);
        rc = kpi_error_set(err, KPI_EUSAGE,
                           "actuals.csv: rows for %zu periods (%s); choose one with --period",
                           L.n_periods, list);
        goto out;
    } else if (L.n_periods == 1) {
        ds->period = L.period_list[0];
    }
    if (L.n_rows < L.cap_rows) { /* the block is kept as the inputs: no slack */
        struct raw_actual *shrunk = realloc(L.rows, L.n_rows * sizeof *L.rows);
        if (shrunk) {
            L.rows = shrunk;
            L.cap_rows = L.n_rows;
        }
    }
    rc = attach_inputs(ds, &L, err);
out:
    kpi_strmap_release(&L.names);
    kpi_strmap_release(&L.periods);
    free(L.name_list);
    free(L.period_list);
    if (rc == 0) /* the rows are the KPIs' inputs now (attach_inputs) */
        ds->inputs = (struct kpi_input *)(void *)L.rows;
    else
        free(L.rows);
    return rc;
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

static int build_tree(kpi_dataset *ds, struct kpi_error *err)
{
    struct kpi_strmap nodes;
    const char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    kpi_strmap_init(&nodes);
    /* Every prefix of every path is a node. A path's prefixes are tried
     * longest first and the walk stops at the first one already known
     * (its own prefixes are then known too), so each path costs its
     * length plus the length of each node it adds, and a prefix is copied
     * once, not once per path beneath it. */
    for (size_t i = 0; i < ds->n_seen_paths; i++) {
        const char *path = ds->seen_paths[i];
        size_t len = strlen(path);
        char prefix[KPI_DEPARTMENT_PATH_MAX + 1];
        assert(len <= KPI_DEPARTMENT_PATH_MAX);
        for (;;) {
            const char *stored;
            memcpy(prefix, path, len);
            prefix[len] = '\0';
            if (kpi_strmap_find(&nodes, prefix, NULL))
                break;
            stored = path[len] ? kpi_arena_strndup(&ds->arena, path, len) : path;
            if (!stored || kpi_strmap_put(&nodes, stored, 0, NULL, NULL) < 0 ||
                grow_array((void **)&paths, &cap, n + 1, sizeof *paths)) {
                rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
                goto out;
            }
            paths[n++] = stored;
            while (len > 0 && path[len - 1] != '/')
                len--;
            if (len == 0)
                break;
            len--; /* the '/' */
        }
    }
    qsort(paths, n, sizeof *paths, compare_path);
    ds->departments = calloc(n ? n : 1, sizeof *ds->departments);
    if (!ds->departments) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    kpi_strmap_release(&nodes);
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
            if (kpi_strmap_get(&nodes, parent, &j)) {
                d->parent = j;
                d->depth = ds->departments[j].depth + 1;
            }
        }
        if (kpi_strmap_put(&nodes, paths[i], (unsigned)i, NULL, NULL) < 0) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
    }
    ds->n_departments = ds->n_departments_total = n;
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

static void sort_indicators(kpi_dataset *ds)
{
    qsort(ds->indicators, ds->n_indicators, sizeof *ds->indicators, compare_tree_order);
    /* The id map is only needed to attach actuals; its indices are stale now. */
    kpi_strmap_release(&ds->ids);
    kpi_strmap_init(&ds->ids);
}

/* ---- shards ------------------------------------------------------------- */

unsigned kpi_shard_of(const char *top_level, unsigned count)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)top_level; *p && *p != '/'; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return count ? (unsigned)(h % count) + 1 : 1;
}

int kpi_dataset_keep_shard(kpi_dataset *ds, unsigned index, unsigned count,
                           struct kpi_error *err)
{
    size_t n_deps = ds->n_departments, kept = 0, kept_kpis = 0;
    unsigned *new_id = malloc((n_deps ? n_deps : 1) * sizeof *new_id);
    bool keep = false;

    if (index < 1 || index > count) {
        free(new_id);
        return kpi_error_set(err, KPI_EUSAGE, "shard %u of %u: expected 1 to %u", index, count,
                             count);
    }
    if (!new_id)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    /* Tree order: a top-level department is followed by its subtree. */
    for (size_t d = 0; d < n_deps; d++) {
        struct kpi_department *dep = &ds->departments[d];
        if (dep->depth == 0)
            keep = kpi_shard_of(dep->path, count) == index;
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
        if (new_id[k.department_id] == KPI_NONE)
            continue;
        k.department_id = new_id[k.department_id];
        ds->indicators[kept_kpis++] = k;
    }
    ds->n_indicators = kept_kpis;
    free(new_id);
    return 0;
}

size_t kpi_dataset_departments_total(const kpi_dataset *ds)
{
    return ds->n_departments_total;
}

/* ---- public ------------------------------------------------------------- */

int kpi_dataset_load(const char *dir, const struct kpi_load_options *opt, kpi_dataset **out,
                     struct kpi_error *err)
{
    kpi_dataset *ds = calloc(1, sizeof *ds);
    struct indicator_loader IL = {0};
    char *path = NULL;
    size_t dlen = strlen(dir);
    int rc;

    *out = NULL;
    if (!ds)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    kpi_arena_init(&ds->arena);
    kpi_strmap_init(&ds->ids);
    kpi_strmap_init(&ds->expression_ids);
    kpi_strmap_init(&ds->texts);
    kpi_strmap_init(&ds->department_paths);
    ds->warnings = calloc(KPI_WARNINGS_KEPT, sizeof *ds->warnings);
    ds->dir = strdup(dir);
    path = malloc(dlen + 32);
    if (!ds->warnings || !ds->dir || !path) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }

    IL.ds = ds;
    {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = kpi_error_set(err, KPI_EINPUT, "%s: not a dataset folder (%s)", dir,
                               stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
            goto out;
        }
    }
    snprintf(path, dlen + 32, "%s/indicators.csv", dir);
    rc = kpi_csv_read(path, "indicators.csv", on_indicator_row, &IL, err);
    if (rc)
        goto out;
    if (ds->n_indicators == 0) {
        rc = kpi_error_set(err, KPI_EINPUT, "indicators.csv: no indicators: the file has only a header");
        goto out;
    }
    rc = build_tree(ds, err);
    if (rc)
        goto out;
    snprintf(path, dlen + 32, "%s/actuals.csv", dir);
    rc = load_actuals(ds, path, opt ? opt->period : NULL, err);
    if (rc)
        goto out;
    sort_indicators(ds);
    *out = ds;
    ds = NULL;
out:
    free(IL.extra_fields);
    free(path);
    kpi_dataset_free(ds);
    return rc;
}

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
