/*
 * part.c - the model of a partial report (`run --shard I/N`): shard.txt,
 * written as a sink and read back for `kpieval merge` (merge.c).
 *
 * A partial report is an ordinary report of the KPIs under the top-level
 * departments of one shard, plus shard.txt: the canonical dump of its
 * model, every field a sink reads, numbers exact, and a checksum. Read
 * back, a model is input like any file: values no run makes are refused.
 *
 * shard.txt is line based, fields separated by a tab. Text is written
 * with \\, \t, \n and every other control byte escaped (\xHH); \N is a
 * missing text. Numbers are the shortest form that reads back exactly.
 *   kpieval-shard 4
 *   shard I N
 *   run HASH                      (the input files and the parameters)
 *   departments TOTAL             (nodes of the whole tree)
 *   reports MASK                  (--reports, as sink bits)
 *   dataset TEXT / period TEXT / cap N / limits INSTR MEM SECONDS
 *   plugin_dir TEXT               (one per folder, in shadowing order)
 *   provenance VERSION COMMAND STARTED FINISHED   (provenance.h; these
 *       lines only when the run kept one)
 *   input PATH SHA256 ROWS / formula PATH SHA256 LINES   (one per file, in order)
 *   setting NAME VALUE            (one per setting, in order)
 *   grade NAME MIN                (one per band, highest first)
 *   unscored POLICY               (zero or skip)
 *   style LANG BOM                (the reports' language; 1: CSVs with a BOM)
 *   column NAME                   (extra columns of indicators.csv)
 *   warnings TOTAL, then warning TEXT for each kept
 *   dep NUMBER DEPTH PARENT PATH  (PARENT: a line number among the deps, or -)
 *   kpi DEP LINE ID NAME DEPARTMENT UNIT FORMULA DIRECTION SCORING
 *       SCORING_TEXT BASELINE TARGET WEIGHT INVALID BAD_BASELINE BAD_TARGET
 *       BAD_WEIGHT BAD_DIRECTION STATUS ACTUAL ACHIEVEMENT CAPPED MESSAGE
 *       N_INPUTS IF_MISSING NOTE EXTRA...  (then one `in NAME VALUE LINE` per
 *                                  input; LINE 0: filled by if_missing zero;
 *                                  NOTE: the KPI's failed warning rules)
 *   reads N                       (after a composite KPI and its inputs: then one
 *                                  `read ID` per KPI it reads, kpi_indicator.deps)
 *   end CHECKSUM                  (of every byte before this line)
 */
#include "part.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input_file.h"
#include "kpieval/limits.h"
#include "kpieval/score.h"
#include "text.h"
#include "words.h"
#include "writers.h"

#define FORMAT_LINE "kpieval-shard 4\n"

/* A 64-bit hash of bytes, a word at a time: enough to tell the inputs of
 * two runs apart or see a changed file, not a defence against forgery. */
static uint64_t hash_bytes(uint64_t h, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        p += 8, n -= 8;
    }
    while (n--)
        h = (h ^ *p++) * 0x100000001b3ULL;
    return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

/* FNV-1a, a byte at a time, so that the sum of a text does not depend on
 * how it was cut into pieces: the model's checksum (written in buffers,
 * read in lines). */
static uint64_t checksum(uint64_t h, const unsigned char *p, size_t n)
{
    while (n--)
        h = (h ^ *p++) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_file(uint64_t h, const char *path)
{
    static const size_t chunk = 1u << 20;
    unsigned char *buf = malloc(chunk);
    int fd = kpi_input_open(path, path, KPI_EINPUT, NULL, NULL);
    ssize_t got;
    if (buf && fd >= 0)
        while ((got = read(fd, buf, chunk)) > 0)
            h = hash_bytes(h, buf, (size_t)got);
    h = hash_bytes(h, (const unsigned char *)"|", 1);
    if (fd >= 0)
        close(fd);
    free(buf);
    return h;
}

/* What makes two partial reports parts of one run: the same input files
 * and every parameter that changes a report. */
static uint64_t run_identity(const struct kpi_report_params *p)
{
    char text[512];
    uint64_t h = HASH_SEED;
    size_t dlen = strlen(p->dataset);
    char *path = malloc(dlen + sizeof "/indicators.csv");
    if (path) {
        snprintf(path, dlen + sizeof "/indicators.csv", "%s/indicators.csv", p->dataset);
        h = hash_file(h, path);
        snprintf(path, dlen + sizeof "/indicators.csv", "%s/actuals.csv", p->dataset);
        h = hash_file(h, path);
        free(path);
    }
    int n = snprintf(text, sizeof text, "%s|%a|%llu|%zu|%a|%u|%u|", p->period ? p->period : "",
                     p->cap, (unsigned long long)p->instruction_limit, p->memory_limit,
                     p->time_limit, p->reports, p->shard_count);
    h = hash_bytes(h, (const unsigned char *)text, (size_t)n);
    for (size_t i = 0; i < p->grades->n; i++) {
        n = snprintf(text, sizeof text, "%s:%a,", p->grades->bands[i].name,
                     p->grades->bands[i].min);
        h = hash_bytes(h, (const unsigned char *)text, (size_t)n);
    }
    for (size_t i = 0; i < p->n_plugin_dirs; i++)
        h = hash_bytes(h, (const unsigned char *)p->plugin_dirs[i], strlen(p->plugin_dirs[i]) + 1);
    n = snprintf(text, sizeof text, "%s|%s|%d|", kpi_unscored_name(p->grades->unscored),
                 kpi_lang_name(p->lang), p->csv_bom);
    h = hash_bytes(h, (const unsigned char *)text, (size_t)n);
    return h;
}

/* ---- writing the model -------------------------------------------------- */

/* The model's bytes go through here, so the checksum sees each of them. */
struct dump {
    FILE *f;
    uint64_t sum;
    char buf[8192];
    size_t len;
};

static void flush_dump(struct dump *d)
{
    d->sum = checksum(d->sum, (const unsigned char *)d->buf, d->len);
    fwrite_unlocked(d->buf, 1, d->len, d->f);
    d->len = 0;
}

static void put_bytes(struct dump *d, const char *s, size_t n)
{
    while (n) {
        if (d->len == sizeof d->buf)
            flush_dump(d);
        size_t k = sizeof d->buf - d->len < n ? sizeof d->buf - d->len : n;
        memcpy(d->buf + d->len, s, k);
        d->len += k, s += k, n -= k;
    }
}

static void put_raw(struct dump *d, const char *s)
{
    put_bytes(d, s, strlen(s));
}

/* A field: tab, then s escaped, or \N for NULL. */
static void put_text(struct dump *d, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put_bytes(d, "\t", 1);
    if (!s) {
        put_bytes(d, "\\N", 2);
        return;
    }
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != 0x7F && c != '\\')
            continue;
        put_bytes(d, run, (size_t)(s - run));
        if (!c)
            break;
        char esc[4] = {'\\', '\\', 0, 0};
        size_t n = 2;
        if (c == '\t')
            esc[1] = 't';
        else if (c == '\n')
            esc[1] = 'n';
        else if (c != '\\')
            esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15], n = 4;
        put_bytes(d, esc, n);
        run = s + 1;
    }
}

static void put_num(struct dump *d, double x)
{
    char buf[KPI_NUMBER_BUF];
    put_bytes(d, "\t", 1);
    put_raw(d, kpi_text_format_exact(x, buf));
}

static void put_uint(struct dump *d, unsigned long long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "\t%llu", v);
    put_raw(d, buf);
}

static void put_provenance(struct dump *d, const struct kpi_provenance *pv)
{
    static const char *const tags[KPI_PROVENANCE_KINDS] = {"\ninput", "\nformula"};

    if (!pv)
        return;
    put_raw(d, "\nprovenance");
    put_text(d, pv->version);
    put_text(d, pv->command);
    put_text(d, *pv->started ? pv->started : NULL);
    put_text(d, *pv->finished ? pv->finished : NULL);
    for (int k = 0; k < KPI_PROVENANCE_KINDS; k++)
        for (size_t i = 0; i < pv->n_files[k]; i++) {
            put_raw(d, tags[k]);
            put_text(d, pv->files[k][i].path);
            put_text(d, pv->files[k][i].sha256);
            put_uint(d, pv->files[k][i].rows);
        }
    for (size_t i = 0; i < pv->n_settings; i++) {
        put_raw(d, "\nsetting");
        put_text(d, pv->settings[i].name);
        put_text(d, pv->settings[i].value);
    }
}

static void put_params(struct dump *d, const struct kpi_report *rep)
{
    const struct kpi_report_params *p = rep->params;
    char line[128];

    snprintf(line, sizeof line, "shard\t%u\t%u\nrun\t%016" PRIx64 "\ndepartments", p->shard_index,
             p->shard_count, run_identity(p));
    put_raw(d, line);
    put_uint(d, rep->departments_total);
    put_raw(d, "\nreports");
    put_uint(d, p->reports);
    put_raw(d, "\ndataset");
    put_text(d, p->dataset);
    put_raw(d, "\nperiod");
    put_text(d, p->period);
    put_raw(d, "\ncap");
    put_num(d, p->cap);
    put_raw(d, "\nlimits");
    put_uint(d, p->instruction_limit);
    put_uint(d, p->memory_limit);
    put_num(d, p->time_limit);
    for (size_t i = 0; i < p->n_plugin_dirs; i++) {
        put_raw(d, "\nplugin_dir");
        put_text(d, p->plugin_dirs[i]);
    }
    put_provenance(d, p->provenance);
    for (size_t i = 0; i < p->grades->n; i++) {
        put_raw(d, "\ngrade");
        put_text(d, p->grades->bands[i].name);
        put_num(d, p->grades->bands[i].min);
    }
    put_raw(d, "\nunscored\t");
    put_raw(d, kpi_unscored_name(p->grades->unscored));
    put_raw(d, "\nstyle\t");
    put_raw(d, kpi_lang_name(p->lang));
    put_raw(d, p->csv_bom ? "\t1" : "\t0");
    for (size_t i = 0; i < rep->n_extra_columns; i++) {
        put_raw(d, "\ncolumn");
        put_text(d, rep->extra_columns[i]);
    }
    put_raw(d, "\nwarnings");
    put_uint(d, rep->warnings_total);
    for (size_t i = 0; i < rep->n_warnings; i++) {
        put_raw(d, "\nwarning");
        put_text(d, rep->warnings[i]);
    }
    put_raw(d, "\n");
}

static void put_kpi(struct dump *d, const struct kpi_report *rep, size_t i)
{
    const struct kpi_indicator *k = &rep->kpis[i];
    const struct kpi_result *r = &rep->rows[i];
    static const char *const scorings = "rlbxe"; /* enum kpi_scoring, in order */

    put_raw(d, "kpi");
    put_uint(d, k->department_id);
    put_uint(d, k->line);
    put_text(d, k->id);
    put_text(d, k->name);
    put_text(d, k->department);
    put_text(d, k->unit);
    put_text(d, k->formula);
    put_raw(d, k->direction == KPI_DIRECTION_DECREASE ? "\t-" : "\t+");
    put_bytes(d, "\t", 1);
    put_bytes(d, &scorings[k->scoring], 1);
    put_text(d, k->scoring == KPI_SCORING_EXPRESSION ? k->scoring_text : NULL);
    if (k->has_baseline)
        put_num(d, k->baseline);
    else
        put_text(d, NULL);
    put_num(d, k->target);
    put_num(d, k->weight);
    put_text(d, k->invalid);
    put_text(d, k->bad->baseline);
    put_text(d, k->bad->target);
    put_text(d, k->bad->weight);
    put_text(d, k->bad->direction);
    put_uint(d, r->status);
    if (r->has_actual)
        put_num(d, r->actual);
    else
        put_text(d, NULL);
    put_num(d, r->status == KPI_STATUS_OK ? r->achievement : 0);
    put_num(d, r->status == KPI_STATUS_OK ? r->achievement_capped : 0);
    put_text(d, r->message);
    put_uint(d, k->n_inputs);
    put_raw(d, k->if_missing == KPI_IF_MISSING_ZERO ? "\tzero" : "\tmissing");
    put_text(d, r->note);
    for (size_t e = 0; e < rep->n_extra_columns; e++)
        put_text(d, k->extra[e]);
    put_raw(d, "\n");
    for (unsigned in = 0; in < k->n_inputs; in++) {
        put_raw(d, "in");
        put_text(d, k->inputs[in].name);
        put_num(d, k->inputs[in].value);
        put_uint(d, k->inputs[in].line);
        put_raw(d, "\n");
    }
    if (k->n_deps) {
        put_raw(d, "reads");
        put_uint(d, k->n_deps);
        put_raw(d, "\n");
    }
    for (unsigned j = 0; j < k->n_deps; j++) {
        put_raw(d, "read");
        put_text(d, k->deps[j]);
        put_raw(d, "\n");
    }
}

int kpi_write_shard_model(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    struct dump *d = malloc(sizeof *d);
    char end[64];

    if (!d)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    d->f = kpi_sink_file(state);
    d->sum = HASH_SEED;
    d->len = 0;
    put_raw(d, FORMAT_LINE);
    put_params(d, rep);
    for (size_t i = 0; i < rep->n_departments; i++) {
        const struct kpi_department *dep = &rep->departments[i];
        put_raw(d, "dep");
        put_uint(d, dep->number);
        put_uint(d, dep->depth);
        if (dep->parent == KPI_NONE)
            put_raw(d, "\t-");
        else
            put_uint(d, dep->parent);
        put_text(d, dep->path);
        put_raw(d, "\n");
    }
    for (size_t i = 0; i < rep->n_kpis; i++)
        put_kpi(d, rep, i);
    flush_dump(d);
    snprintf(end, sizeof end, "end\t%016" PRIx64 "\n", d->sum);
    fputs(end, d->f);
    free(d);
    return 0;
}

/* ---- reading a part ----------------------------------------------------- */


/* One line being read: its fields, split at tabs, unescaped in place.
 * Room for a KPI line of the widest indicators.csv a run reads: 25 fields
 * and one per extra column. */
struct fields {
    char *f[27 + KPI_CSV_FIELDS_MAX];
    size_t n;
};

static bool unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        switch (*++p) {
        case '\\': *o++ = '\\'; break;
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'x': {
            unsigned v;
            if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &v) != 1 || v == 0)
                return false;
            *o++ = (char)v;
            p += 2;
            break;
        }
        default: return false;
        }
    }
    *o = '\0';
    return true;
}

static void split(char *line, struct fields *fl)
{
    fl->n = 0;
    for (char *p = line;;) {
        if (fl->n < sizeof fl->f / sizeof fl->f[0])
            fl->f[fl->n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
}

/* Field i as text in the arena (NULL for \N); *ok cleared when it is bad. */
static const char *text_at(struct kpi_arena *a, struct fields *fl, size_t i, bool *ok)
{
    char *s;
    if (i >= fl->n || !(s = fl->f[i])) {
        *ok = false;
        return NULL;
    }
    if (!strcmp(s, "\\N"))
        return NULL;
    if (!unescape(s) || !(s = kpi_arena_strndup(a, s, strlen(s))))
        *ok = false;
    return s;
}

static const char *text_req(struct kpi_arena *a, struct fields *fl, size_t i, bool *ok)
{
    const char *s = text_at(a, fl, i, ok);
    if (!s)
        *ok = false;
    return s;
}

static double num_at(struct fields *fl, size_t i, bool *ok)
{
    double x = 0;
    char *end;
    if (i >= fl->n || !*fl->f[i]) {
        *ok = false;
        return 0;
    }
    errno = 0;
    x = strtod(fl->f[i], &end);
    if (*end || errno || !isfinite(x))
        *ok = false;
    return x;
}

static unsigned long long uint_at(struct fields *fl, size_t i, unsigned long long max, bool *ok)
{
    char *end;
    unsigned long long v;
    if (i >= fl->n || fl->f[i][0] < '0' || fl->f[i][0] > '9') {
        *ok = false;
        return 0;
    }
    errno = 0;
    v = strtoull(fl->f[i], &end, 10);
    if (*end || errno || v > max)
        *ok = false;
    return v;
}

/* Appends one element to *arr (arena-free growth: realloc). */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? 2 * *cap : 64;
    void *na = realloc(arr, ncap * size);
    if (na)
        *cap = ncap;
    return na;
}

static bool push_text(const char ***arr, size_t *n, const char *s)
{
    const char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na)
        return false;
    na[(*n)++] = s;
    *arr = na;
    return true;
}

/* A KPI line: its indicator and result; its inputs follow. The values a
 * whole run could not have made (an achievement out of range, a weight
 * over the limit, a bad status) are refused: a model is input. */
static bool read_kpi(struct part *p, struct kpi_arena *a, struct fields *fl,
                     struct kpi_indicator *k, struct kpi_result *r, unsigned *n_inputs)
{
    bool ok = fl->n == 27 + p->n_columns;
    struct kpi_bad_cells *bad = kpi_arena_alloc(a, sizeof *bad);
    static const char scorings[] = "rlbxe";

    memset(k, 0, sizeof *k);
    memset(r, 0, sizeof *r);
    if (!bad)
        return false;
    k->department_id = (unsigned)uint_at(fl, 1, p->n_deps ? p->n_deps - 1 : 0, &ok);
    k->line = (unsigned)uint_at(fl, 2, UINT32_MAX, &ok);
    k->id = text_req(a, fl, 3, &ok);
    k->name = text_req(a, fl, 4, &ok);
    k->department = text_req(a, fl, 5, &ok);
    k->unit = text_req(a, fl, 6, &ok);
    k->formula = text_req(a, fl, 7, &ok);
    ok = ok && fl->n > 9 && (!strcmp(fl->f[8], "+") || !strcmp(fl->f[8], "-")) &&
         strlen(fl->f[9]) == 1 && strchr(scorings, fl->f[9][0]);
    if (!ok)
        return false;
    k->direction = fl->f[8][0] == '-' ? KPI_DIRECTION_DECREASE : KPI_DIRECTION_INCREASE;
    k->scoring = (unsigned char)(strchr(scorings, fl->f[9][0]) - scorings);
    k->scoring_text = text_at(a, fl, 10, &ok);
    k->has_baseline = strcmp(fl->f[11], "\\N") != 0;
    k->baseline = k->has_baseline ? num_at(fl, 11, &ok) : 0;
    k->target = num_at(fl, 12, &ok);
    k->weight = num_at(fl, 13, &ok);
    k->invalid = text_at(a, fl, 14, &ok);
    bad->baseline = text_at(a, fl, 15, &ok);
    bad->target = text_at(a, fl, 16, &ok);
    bad->weight = text_at(a, fl, 17, &ok);
    bad->direction = text_at(a, fl, 18, &ok);
    k->bad = bad;
    r->status = (enum kpi_status)uint_at(fl, 19, KPI_STATUS_COUNT - 1, &ok);
    r->has_actual = fl->n > 20 && strcmp(fl->f[20], "\\N") != 0;
    r->actual = r->has_actual ? num_at(fl, 20, &ok) : 0;
    r->achievement = num_at(fl, 21, &ok);
    r->achievement_capped = num_at(fl, 22, &ok);
    r->message = text_at(a, fl, 23, &ok);
    *n_inputs = (unsigned)uint_at(fl, 24, 1u << 24, &ok);
    ok = ok && (!strcmp(fl->f[25], "zero") || !strcmp(fl->f[25], "missing"));
    k->if_missing = ok && !strcmp(fl->f[25], "zero") ? KPI_IF_MISSING_ZERO : KPI_IF_MISSING_MISSING;
    r->note = text_at(a, fl, 26, &ok);
    k->formula_id = 0;
    k->scoring_id = KPI_NONE;
    if (p->n_columns) {
        const char **extra = kpi_arena_alloc(a, p->n_columns * sizeof *extra);
        ok = ok && extra;
        for (size_t e = 0; ok && e < p->n_columns; e++)
            if (!(extra[e] = text_req(a, fl, 27 + e, &ok)))
                break;
        k->extra = extra;
    }
    return ok && k->weight >= 0 && k->weight <= KPI_WEIGHT_MAX &&
           fabs(r->achievement) <= KPI_ACHIEVEMENT_MAX &&
           fabs(r->achievement_capped) <= KPI_ACHIEVEMENT_MAX &&
           (k->scoring == KPI_SCORING_EXPRESSION) == (k->scoring_text != NULL);
}

static bool is_sha256(const char *s)
{
    return strlen(s) == KPI_SHA256_HEX - 1 && strspn(s, "0123456789abcdef") == KPI_SHA256_HEX - 1;
}

/* A line of the run's provenance; false when it is not one. Values no
 * run writes (a time that is no date, a digest that is not 64 hex digits,
 * more rows than a file can have, a setting twice) are refused. */
static bool read_provenance(struct part *p, struct kpi_arena *a, struct fields *fl, bool *ok)
{
    struct kpi_provenance *pv = &p->provenance;
    const char *tag = fl->f[0], *s, *v;
    enum kpi_provenance_kind kind = KPI_PROVENANCE_INPUT;

    if (!strcmp(tag, "provenance") && fl->n == 5) {
        const char *version = text_at(a, fl, 1, ok), *command = text_at(a, fl, 2, ok);
        const char *started = text_at(a, fl, 3, ok), *finished = text_at(a, fl, 4, ok);
        bool times = started && finished;
        *ok = *ok && !p->has_provenance && (times || (!started && !finished)) &&
              (!times || (kpi_provenance_time_ok(started) && kpi_provenance_time_ok(finished) &&
                          strcmp(started, finished) <= 0)) &&
              (!version || !kpi_provenance_set_version(pv, version, NULL)) &&
              (!command || (pv->command = strdup(command)));
        if (*ok && times) {
            memcpy(pv->started, started, KPI_TIME_BUF);
            memcpy(pv->finished, finished, KPI_TIME_BUF);
        }
        p->has_provenance = true;
    } else if ((!strcmp(tag, "input") || (kind = KPI_PROVENANCE_FORMULA, !strcmp(tag, "formula"))) &&
               fl->n == 4) {
        uint64_t most = kind == KPI_PROVENANCE_INPUT ? UINT32_MAX : KPI_PLUGIN_FILE_MAX + 1ull;
        uint64_t rows = uint_at(fl, 3, most, ok);
        *ok = *ok && p->has_provenance && (s = text_req(a, fl, 1, ok)) &&
              (v = text_req(a, fl, 2, ok)) && is_sha256(v) &&
              !kpi_provenance_add_file(pv, kind, s, v, rows, NULL);
    } else if (!strcmp(tag, "setting") && fl->n == 3) {
        *ok = *ok && p->has_provenance && (s = text_req(a, fl, 1, ok)) &&
              (v = text_req(a, fl, 2, ok)) && !kpi_provenance_get(pv, s) &&
              !kpi_provenance_set(pv, s, v, NULL);
    } else {
        return false;
    }
    return true;
}

/* A header line of the model; false when it is not one it knows. */
static bool read_header(struct part *p, struct kpi_arena *a, struct fields *fl, bool *ok)
{
    const char *tag = fl->f[0];
    const char *s;

    if (!strcmp(tag, "shard") && fl->n == 3) {
        p->index = (unsigned)uint_at(fl, 1, KPI_SHARDS_MAX, ok);
        p->count = (unsigned)uint_at(fl, 2, KPI_SHARDS_MAX, ok);
    } else if (!strcmp(tag, "run") && fl->n == 2) {
        *ok = *ok && sscanf(fl->f[1], "%" SCNx64, &p->run) == 1;
    } else if (!strcmp(tag, "departments") && fl->n == 2) {
        p->departments_total = (size_t)uint_at(fl, 1, SIZE_MAX, ok);
    } else if (!strcmp(tag, "reports") && fl->n == 2) {
        p->reports = (unsigned)uint_at(fl, 1, UINT32_MAX, ok);
    } else if (!strcmp(tag, "dataset") && fl->n == 2) {
        p->params.dataset = text_req(a, fl, 1, ok);
    } else if (!strcmp(tag, "period") && fl->n == 2) {
        p->params.period = text_at(a, fl, 1, ok);
    } else if (!strcmp(tag, "cap") && fl->n == 2) {
        p->params.cap = num_at(fl, 1, ok);
    } else if (!strcmp(tag, "limits") && fl->n == 4) {
        p->params.instruction_limit = uint_at(fl, 1, UINT64_MAX, ok);
        p->params.memory_limit = (size_t)uint_at(fl, 2, SIZE_MAX, ok);
        p->params.time_limit = num_at(fl, 3, ok);
    } else if (!strcmp(tag, "plugin_dir") && fl->n == 2) {
        *ok = *ok && (s = text_req(a, fl, 1, ok)) && push_text(&p->plugin_dirs, &p->n_plugin_dirs, s);
    } else if (!strcmp(tag, "grade") && fl->n == 3) {
        struct kpi_grade_band *band = &p->grades.bands[p->grades.n];
        s = p->grades.n < KPI_GRADES_MAX ? text_req(a, fl, 1, ok) : NULL;
        if (!s || strlen(s) >= sizeof band->name) {
            *ok = false;
        } else {
            memcpy(band->name, s, strlen(s) + 1);
            band->min = num_at(fl, 2, ok);
            p->grades.n++;
        }
    } else if (!strcmp(tag, "unscored") && fl->n == 2) {
        struct kpi_error ignored;
        *ok = *ok && kpi_unscored_parse(fl->f[1], &p->grades.unscored, &ignored) == 0;
    } else if (!strcmp(tag, "style") && fl->n == 3) {
        struct kpi_error ignored;
        *ok = *ok && kpi_lang_parse(fl->f[1], &p->params.lang, &ignored) == 0;
        p->params.csv_bom = uint_at(fl, 2, 1, ok) == 1;
    } else if (!strcmp(tag, "column") && fl->n == 2) {
        *ok = *ok && (s = text_req(a, fl, 1, ok)) && push_text(&p->columns, &p->n_columns, s);
    } else if (!strcmp(tag, "warnings") && fl->n == 2) {
        p->warnings_total = (size_t)uint_at(fl, 1, SIZE_MAX, ok);
    } else if (!strcmp(tag, "warning") && fl->n == 2) {
        *ok = *ok && (s = text_req(a, fl, 1, ok)) && push_text(&p->warnings, &p->n_warnings, s);
    } else {
        return read_provenance(p, a, fl, ok);
    }
    return true;
}

static bool read_dep(struct part *p, struct kpi_arena *a, struct fields *fl)
{
    bool ok = fl->n == 5;
    struct kpi_department *d;

    if (!ok || !(d = grow(p->deps, &p->cap_deps, p->n_deps, sizeof *d)))
        return false;
    p->deps = d;
    d = &p->deps[p->n_deps];
    d->number = (unsigned)uint_at(fl, 1, UINT32_MAX, &ok);
    d->depth = (unsigned)uint_at(fl, 2, KPI_DEPARTMENT_LEVELS_MAX, &ok);
    if (!strcmp(fl->f[3], "-"))
        d->parent = KPI_NONE;
    else
        d->parent = (unsigned)uint_at(fl, 3, p->n_deps ? p->n_deps - 1 : 0, &ok) ;
    ok = ok && (d->depth == 0) == (d->parent == KPI_NONE) && (p->n_deps || d->depth == 0) &&
         (d->parent == KPI_NONE || p->deps[d->parent].depth + 1 == d->depth);
    if (!ok || !(d->path = text_req(a, fl, 4, &ok)))
        return false;
    const char *slash = strrchr(d->path, '/');
    d->name = slash ? slash + 1 : d->path;
    p->n_deps++;
    return ok;
}

/* Reads DIR/shard.txt into p (strings in a). */
int kpi_part_read(struct part *p, struct kpi_arena *a, struct kpi_error *err)
{
    char path[KPI_PATH_MAX + 16];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    uint64_t sum = HASH_SEED;
    bool ok = true, ended = false;
    unsigned pending_inputs = 0, pending_reads = 0;
    struct fields fl;
    FILE *f;
    int fd;

    snprintf(path, sizeof path, "%s/" KPI_SHARD_MODEL, p->dir);
    fd = kpi_input_open(path, path, KPI_EINPUT, NULL, err);
    if (fd == KPI_EIO) {
        kpi_error_at(err, KPI_EINPUT, path, 0, 0,
                     "%s: not a partial report (%s); make parts with a sharded run", p->dir,
                     errno == ENOENT ? "no " KPI_SHARD_MODEL : strerror(errno));
        return kpi_error_setting(err, KPI_EINPUT, KPI_SETTING_SHARD);
    }
    if (fd < 0)
        return fd;
    if (!(f = fdopen(fd, "r"))) {
        close(fd);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    while (ok && !ended && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] != '\n')
            break; /* a last line cut short: see below */
        if (memchr(line, '\0', (size_t)len)) {
            ok = false;
            break;
        }
        if (lineno == 1) {
            ok = !strcmp(line, FORMAT_LINE);
            sum = checksum(sum, (const unsigned char *)line, (size_t)len);
            continue;
        }
        if (!strncmp(line, "end\t", 4)) {
            uint64_t want;
            ok = sscanf(line, "end\t%" SCNx64, &want) == 1 && len == 21;
            if (ok && want != sum) {
                fclose(f);
                free(line);
                return kpi_error_at(err, KPI_EINPUT, path, 0, 0,
                                    "%s: changed since its run wrote it (checksum)", path);
            }
            ended = true;
            break;
        }
        sum = checksum(sum, (const unsigned char *)line, (size_t)len);
        line[len - 1] = '\0';
        split(line, &fl);
        if (pending_inputs) {
            struct kpi_indicator *k = &p->kpis[p->n_kpis - 1];
            struct kpi_input *in = &p->filling[k->n_inputs];
            ok = fl.n == 4 && !strcmp(fl.f[0], "in") && (in->name = text_req(a, &fl, 1, &ok));
            in->value = num_at(&fl, 2, &ok);
            in->line = (unsigned)uint_at(&fl, 3, UINT32_MAX, &ok);
            k->n_inputs++;
            pending_inputs--;
        } else if (pending_reads) {
            struct kpi_indicator *k = &p->kpis[p->n_kpis - 1];
            const char *id;
            ok = fl.n == 2 && !strcmp(fl.f[0], "read") && (id = text_req(a, &fl, 1, &ok)) &&
                 kpi_text_is_kpi_id(id);
            if (ok)
                p->reading[k->n_deps++] = id;
            pending_reads--;
        } else if (!strcmp(fl.f[0], "reads")) {
            struct kpi_indicator *k = p->n_kpis ? &p->kpis[p->n_kpis - 1] : NULL;
            pending_reads = fl.n == 2 ? (unsigned)uint_at(&fl, 1, 1u << 24, &ok) : 0;
            ok = ok && k && !k->n_deps && pending_reads &&
                 (p->reading = kpi_arena_alloc(a, pending_reads * sizeof *p->reading));
            if (ok)
                k->deps = p->reading;
        } else if (!strcmp(fl.f[0], "dep")) {
            ok = !p->n_kpis && read_dep(p, a, &fl);
        } else if (!strcmp(fl.f[0], "kpi")) {
            size_t old_cap = p->cap_kpis;
            struct kpi_indicator *nk = grow(p->kpis, &p->cap_kpis, p->n_kpis, sizeof *nk);
            struct kpi_result *nr = p->rows;
            if (nk)
                p->kpis = nk;
            if (nk && p->cap_kpis != old_cap) /* the rows grow with the KPIs */
                nr = realloc(p->rows, p->cap_kpis * sizeof *nr);
            if (!nk || !nr) {
                fclose(f);
                free(line);
                return kpi_error_set(err, KPI_ENOMEM, "out of memory");
            }
            p->rows = nr;
            struct kpi_indicator *k = &p->kpis[p->n_kpis];
            ok = p->n_deps && read_kpi(p, a, &fl, k, &p->rows[p->n_kpis], &pending_inputs);
            k->n_inputs = 0;
            if (ok && pending_inputs &&
                !(k->inputs = p->filling = kpi_arena_alloc(a, pending_inputs * sizeof *p->filling)))
                ok = false;
            if (ok && p->n_kpis && k->department_id < p->kpis[p->n_kpis - 1].department_id)
                ok = false; /* KPIs are in tree order */
            p->n_kpis++;
        } else {
            ok = !p->n_deps && read_header(p, a, &fl, &ok) && ok;
        }
    }
    fclose(f);
    free(line);
    if (ok && !ended)
        return kpi_error_at(err, KPI_EINPUT, path, 0, 0,
                            "%s: changed since its run wrote it (cut short)", path);
    if (!ok || pending_inputs || pending_reads || !p->params.dataset || p->count < 1 ||
        p->index < 1 || p->index > p->count || !p->grades.n)
        return kpi_error_at(err, KPI_EINPUT, path, lineno <= UINT_MAX ? (unsigned)lineno : 0, 0,
                            "%s:%lu: not a kpieval shard model", path, lineno);
    p->params.grades = &p->grades;
    p->params.plugin_dirs = p->plugin_dirs;
    p->params.n_plugin_dirs = p->n_plugin_dirs;
    p->params.reports = p->reports;
    p->params.provenance = p->has_provenance ? &p->provenance : NULL;
    return 0;
}

void kpi_part_release(struct part *p)
{
    kpi_provenance_release(&p->provenance);
    free(p->plugin_dirs);
    free(p->columns);
    free(p->warnings);
    free(p->deps);
    free(p->kpis);
    free(p->rows);
}
