/* kpi_dataset_load() (dataset.h): a dataset folder's indicators.csv and
 * actuals.csv, read row by row into the builder (builder.h). What is here
 * is only about the files: their columns, the trimming of cells, and which
 * rows of actuals.csv are for the period; every rule about what a cell
 * may hold is the builder's. */
#include "kpieval/builder.h"
#include "kpieval/dataset.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv_reader.h"
#include "kpieval/provenance.h"
#include "model.h"
#include "strmap.h"

/* ---- header ------------------------------------------------------------- */

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
            rc = kpi_error_at(err, KPI_EINPUT, row->file, row->line, 0,
                              "%s:%u: column %zu has an empty header name", row->file, row->line,
                              f + 1);
            goto out;
        }
        int r = kpi_strmap_put(&seen, h, (unsigned)f, &first, NULL);
        if (r < 0) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        if (r == 0) {
            rc = kpi_error_at(err, KPI_EINPUT, row->file, row->line, 0,
                              "%s:%u: duplicate column '%s' (columns %u and %zu)", row->file,
                              row->line, h, first + 1, f + 1);
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
            rc = kpi_error_at(err, KPI_EINPUT, row->file, row->line, 0,
                              "%s:%u: missing required column '%s'", row->file, row->line,
                              cols[c].name);
            goto out;
        }
    }
out:
    kpi_strmap_release(&seen);
    return rc;
}

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
    COL_INPUTS,
    COL_IF_MISSING,
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
    [COL_INPUTS] = {"inputs", false},
    [COL_IF_MISSING] = {"if_missing", false},
};

struct indicator_reader {
    kpi_builder *b;
    int col[N_INDICATOR_COLUMNS];
    bool is_extra[KPI_CSV_FIELDS_MAX];
    size_t *extra_fields; /* field index of each extra column */
    const char **extra;   /* a row's extra cells */
    size_t n_extra;
};

/* The known columns, and the others as the builder's extra columns. */
static int on_indicator_header(struct indicator_reader *R, const struct kpi_csv_row *row,
                               struct kpi_error *err)
{
    const char **names;
    int rc = map_header(row, indicator_columns, N_INDICATOR_COLUMNS, R->col, R->is_extra, err);
    if (rc)
        return rc;
    names = calloc(row->nfields, sizeof *names);
    R->extra = calloc(row->nfields, sizeof *R->extra);
    R->extra_fields = calloc(row->nfields, sizeof *R->extra_fields);
    if (!names || !R->extra || !R->extra_fields) {
        free(names);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    for (size_t f = 0; f < row->nfields; f++) {
        if (R->is_extra[f]) {
            R->extra_fields[R->n_extra] = f;
            names[R->n_extra++] = row->fields[f];
        }
    }
    rc = kpi_builder_set_extra_columns(R->b, names, R->n_extra, err);
    free(names);
    return rc;
}

static int on_indicator_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct indicator_reader *R = ctx;
    const int *col = R->col;

    if (row->index == 0)
        return on_indicator_header(R, row, err);
    for (size_t e = 0; e < R->n_extra; e++)
        R->extra[e] = row->fields[R->extra_fields[e]];
    struct kpi_indicator_spec spec = {
        .id = trim(row->fields[col[COL_ID]]),
        .name = row->fields[col[COL_NAME]], /* shown as written: a quoted name keeps its spaces */
        .department = trim(row->fields[col[COL_DEPARTMENT]]),
        .unit = trim(field(row, col[COL_UNIT])),
        .direction = trim(field(row, col[COL_DIRECTION])),
        .baseline = trim(field(row, col[COL_BASELINE])),
        .target = trim(row->fields[col[COL_TARGET]]),
        .formula = trim(row->fields[col[COL_FORMULA]]),
        .weight = trim(field(row, col[COL_WEIGHT])),
        .scoring = trim(field(row, col[COL_SCORING])),
        .inputs = field(row, col[COL_INPUTS]),
        .if_missing = trim(field(row, col[COL_IF_MISSING])),
        .extra = R->extra,
        .line = row->line,
    };
    return kpi_builder_add_indicator(R->b, &spec, err);
}

/* ---- actuals.csv -------------------------------------------------------- */

enum { COL_INDICATOR, COL_INPUT, COL_VALUE, COL_PERIOD, N_ACTUAL_COLUMNS };

static const struct column actual_columns[N_ACTUAL_COLUMNS] = {
    [COL_INDICATOR] = {"indicator", true},
    [COL_INPUT] = {"input", true},
    [COL_VALUE] = {"value", true},
    [COL_PERIOD] = {"period", false},
};

struct actual_reader {
    kpi_builder *b;
    const char *want_period; /* NULL: all rows, and there must be one period */
    int col[N_ACTUAL_COLUMNS];
    bool is_extra[KPI_CSV_FIELDS_MAX];
    struct kpi_strmap periods; /* distinct periods seen */
    struct kpi_arena arena;    /* their text */
    const char **period_list;
    size_t n_periods, cap_periods;
    bool period_matched;
    size_t rows_read; /* data rows, whatever their period */
};

/* Notes the row's period; true when the row is for the period wanted. */
static int select_period(struct actual_reader *R, const char *period, bool *wanted,
                         struct kpi_error *err)
{
    unsigned seen;

    *wanted = true;
    if (R->col[COL_PERIOD] < 0)
        return 0;
    if (!kpi_strmap_get(&R->periods, period, &seen)) {
        const char *copy = kpi_arena_strndup(&R->arena, period, strlen(period));
        if (!copy || kpi_strmap_put(&R->periods, copy, 0, NULL, NULL) < 0 ||
            kpi_model_grow((void **)&R->period_list, &R->cap_periods, R->n_periods + 1,
                           sizeof *R->period_list))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        R->period_list[R->n_periods++] = copy;
    }
    if (R->want_period) {
        *wanted = !strcmp(period, R->want_period);
        R->period_matched = R->period_matched || *wanted;
    }
    return 0;
}

static int on_actual_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct actual_reader *R = ctx;
    bool wanted;
    int rc;

    if (row->index == 0)
        return map_header(row, actual_columns, N_ACTUAL_COLUMNS, R->col, R->is_extra, err);
    R->rows_read++;
    if ((rc = select_period(R, trim(field(row, R->col[COL_PERIOD])), &wanted, err)))
        return rc;
    if (!wanted) /* its input name is still a known one (if_missing) */
        return kpi_builder_note_input(R->b, trim(row->fields[R->col[COL_INPUT]]), err);
    struct kpi_actual_spec spec = {
        .indicator = trim(row->fields[R->col[COL_INDICATOR]]),
        .input = trim(row->fields[R->col[COL_INPUT]]),
        .value = trim(row->fields[R->col[COL_VALUE]]),
        .line = row->line,
    };
    return kpi_builder_add_actual(R->b, &spec, err);
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
        int k = snprintf(buf + o, size - o, "%s'%s'", i ? ", " : "", kpi_model_clip(periods[i], c));
        o += k > 0 ? (size_t)k : 0;
    }
    if (i < n)
        snprintf(buf + o, size - o, ", ...");
}

/* The period of the rows taken: the one asked for, which some row must
 * have, or else the file's only one (or none, without a period column). */
static int choose_period(struct actual_reader *R, struct kpi_error *err)
{
    const char *want = R->want_period;
    char list[512];
    int rc = 0;

    if (R->n_periods)
        qsort(R->period_list, R->n_periods, sizeof *R->period_list, compare_period);
    list_periods(R->period_list, R->n_periods, list, sizeof list);
    if (want && R->col[COL_PERIOD] < 0)
        rc = kpi_error_at(err, KPI_EUSAGE, "actuals.csv", 0, 0,
                          "actuals.csv: period '%s' asked for, but the file has no 'period' "
                          "column",
                          want);
    else if (want && !R->period_matched)
        rc = kpi_error_at(err, KPI_EUSAGE, "actuals.csv", 0, 0,
                          "actuals.csv: no rows for period '%s' (periods found: %s)", want,
                          R->n_periods ? list : "none");
    else if (!want && R->n_periods > 1)
        rc = kpi_error_at(err, KPI_EUSAGE, "actuals.csv", 0, 0,
                          "actuals.csv: rows for %zu periods (%s); choose one", R->n_periods, list);
    if (rc)
        return kpi_error_setting(err, rc, KPI_SETTING_PERIOD);
    return kpi_builder_set_period(R->b, want ? want : R->n_periods ? R->period_list[0] : NULL, err);
}

/* kpi_csv_read, recording the file in prov (when not NULL) under the
 * name it has in the dataset. */
static int read_csv(const char *path, const char *name, enum kpi_encoding encoding,
                    kpi_csv_row_fn on_row, void *ctx, struct kpi_provenance *prov,
                    struct kpi_error *err)
{
    kpi_sha256 *digest = NULL;
    char hex[KPI_SHA256_HEX];
    uint64_t rows = 0;
    int rc;

    if (prov && !(digest = kpi_sha256_new()))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    rc = kpi_csv_read_digest(path, name, encoding, on_row, ctx, digest, &rows, err);
    if (!rc && prov) {
        kpi_sha256_final(digest, hex);
        rc = kpi_provenance_add_file(prov, KPI_PROVENANCE_INPUT, name, hex, rows, err);
    }
    kpi_sha256_free(digest);
    return rc;
}

static int read_actuals(kpi_builder *b, const char *path, const char *want_period,
                        enum kpi_encoding encoding, struct kpi_provenance *prov,
                        struct kpi_error *err)
{
    struct actual_reader R = {.b = b, .want_period = want_period};
    int rc;

    kpi_strmap_init(&R.periods);
    kpi_arena_init(&R.arena);
    rc = read_csv(path, "actuals.csv", encoding, on_actual_row, &R, prov, err);
    if (!rc && R.rows_read == 0)
        rc = kpi_error_at(err, KPI_EINPUT, "actuals.csv", 0, 0,
                          "actuals.csv: no actuals: the file has only a header");
    if (!rc)
        rc = choose_period(&R, err);
    kpi_strmap_release(&R.periods);
    kpi_arena_release(&R.arena);
    free(R.period_list);
    return rc;
}

/* ---- the folder --------------------------------------------------------- */

int kpi_dataset_load(const char *dir, const struct kpi_load_options *opt, kpi_dataset **out,
                     struct kpi_error *err)
{
    struct indicator_reader IR = {0};
    kpi_builder *b = NULL;
    size_t dlen = strlen(dir);
    char *path = malloc(dlen + 32);
    enum kpi_encoding encoding = opt ? opt->encoding : KPI_ENCODING_UTF8;
    struct stat st;
    int rc;

    *out = NULL;
    if (!path || (rc = kpi_builder_new(dir, &b, err))) {
        free(path);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    IR.b = b;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = kpi_error_set(err, KPI_EINPUT, "%s: not a dataset folder (%s)", dir,
                           stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
        goto out;
    }
    snprintf(path, dlen + 32, "%s/indicators.csv", dir);
    if ((rc = read_csv(path, "indicators.csv", encoding, on_indicator_row, &IR,
                       opt ? opt->provenance : NULL, err)))
        goto out;
    if (kpi_builder_count(b) == 0) {
        rc = kpi_error_at(err, KPI_EINPUT, "indicators.csv", 0, 0,
                          "indicators.csv: no indicators: the file has only a header");
        goto out;
    }
    snprintf(path, dlen + 32, "%s/actuals.csv", dir);
    if ((rc = read_actuals(b, path, opt ? opt->period : NULL, encoding,
                           opt ? opt->provenance : NULL, err)))
        goto out;
    rc = kpi_builder_finish(b, out, err);
out:
    free(IR.extra_fields);
    free(IR.extra);
    free(path);
    kpi_builder_free(b);
    return rc;
}
