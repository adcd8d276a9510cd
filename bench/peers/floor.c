/*
 * floor.c - the C floor of the benchmark: the least work that produces
 * kpieval's kpis.csv and departments.csv for a `kpieval generate` dataset.
 *
 * Reads DIR/actuals.csv into a hash of indicators with their inputs, then
 * streams DIR/indicators.csv with libcsv: each KPI's formula text is matched
 * once against the generator's shapes (x, ratio(a, b), a / b * 100,
 * sum(a, b, c), (a + b) / c * 100, progress(a, b), growth(a, b), a - b),
 * evaluated in native C, scored by the rules of docs/formats.md and written
 * at once through a 1 MiB output buffer; the departments are totalled on the
 * way and written in tree order at the end. No Lua, no sandbox, no workers:
 * this is what the job costs without formulas as a language.
 *
 * What it does not do: other formula shapes (status error, "shape not
 * supported"), the `baseline` and expression scoring rules, periods,
 * duplicate-input and header checks, report.json and the per-department files.
 *
 * usage: floor DIR OUT   (OUT must exist)
 */
#include <csv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP 120.0
#define MAX_FIELDS 64
#define MAX_NAMES 8

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "floor: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory", NULL);
    return p;
}

/* ---- strings: an append-only arena, and interning --------------------- */

struct arena {
    char *block;
    size_t used, size;
};

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    if (a->used + len + 1 > a->size) {
        a->size = len + 1 > (1u << 20) ? len + 1 : (1u << 20);
        a->block = xmalloc(a->size); /* earlier blocks stay alive until exit */
        a->used = 0;
    }
    char *p = a->block + a->used;
    memcpy(p, s, len);
    p[len] = '\0';
    a->used += len + 1;
    return p;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* An open-addressing map from strings to pointers; keys live in the arena. */
struct map {
    const char **keys;
    void **values;
    size_t *lens;
    uint64_t *hashes; /* compared first: a probe reads no key it need not */
    size_t n, cap;
};

static void map_grow(struct map *m)
{
    struct map bigger = {NULL, NULL, NULL, NULL, 0, m->cap ? m->cap * 2 : 1024};
    bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
    bigger.values = xcalloc(bigger.cap, sizeof *bigger.values);
    bigger.lens = xcalloc(bigger.cap, sizeof *bigger.lens);
    bigger.hashes = xcalloc(bigger.cap, sizeof *bigger.hashes);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = m->hashes[i] & (bigger.cap - 1);
        while (bigger.keys[j])
            j = (j + 1) & (bigger.cap - 1);
        bigger.keys[j] = m->keys[i];
        bigger.values[j] = m->values[i];
        bigger.lens[j] = m->lens[i];
        bigger.hashes[j] = m->hashes[i];
    }
    bigger.n = m->n;
    free(m->keys);
    free(m->values);
    free(m->lens);
    free(m->hashes);
    *m = bigger;
}

/* The slot of key: its value, or NULL and *slot where to put it. */
static void **map_slot(struct map *m, const char *key, size_t len, size_t *slot)
{
    if (2 * (m->n + 1) > m->cap)
        map_grow(m);
    uint64_t h = hash_bytes(key, len);
    size_t j = h & (m->cap - 1);
    while (m->keys[j]) {
        if (m->hashes[j] == h && m->lens[j] == len && !memcmp(m->keys[j], key, len))
            return &m->values[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->hashes[j] = h; /* for map_put */
    *slot = j;
    return NULL;
}

/* Fills the slot map_slot found free; nothing may be added in between. */
static void map_put(struct map *m, size_t slot, const char *key, size_t len, void *value)
{
    m->keys[slot] = key;
    m->lens[slot] = len;
    m->values[slot] = value;
    m->n++;
}

static struct arena strings;
static struct map names; /* input names, interned: equal names are equal pointers */

static const char *intern(const char *s, size_t len)
{
    size_t slot;
    void **v = map_slot(&names, s, len, &slot);
    if (v)
        return *v;
    char *copy = arena_strndup(&strings, s, len);
    map_put(&names, slot, copy, len, copy);
    return copy;
}

/* ---- actuals.csv: indicator -> list of (input, value) ----------------- */

struct input {
    const char *name; /* interned */
    double value;
    int next; /* index in inputs[], or -1 */
};

struct indicator_inputs {
    const char *id; /* in the arena */
    size_t id_len;
    int first, last;
};

static struct input *inputs;
static size_t n_inputs, cap_inputs;
static struct map by_indicator;

/* A CSV row being read: field texts, NUL-terminated, in one growing buffer. */
struct row {
    char *text;
    size_t used, size;
    size_t start[MAX_FIELDS], len[MAX_FIELDS];
    int n;
    long line;
    int columns[16]; /* the field index of each wanted column, -1 if absent */
    int header_done;
};

static void row_field(void *s, size_t len, void *data)
{
    struct row *r = data;
    if (r->n == MAX_FIELDS)
        die("too many fields in a row", NULL);
    if (r->used + len + 1 > r->size) {
        r->size = (r->used + len + 1) * 2;
        r->text = realloc(r->text, r->size);
        if (!r->text)
            die("out of memory", NULL);
    }
    memcpy(r->text + r->used, s, len);
    r->text[r->used + len] = '\0';
    r->start[r->n] = r->used;
    r->len[r->n] = len;
    r->used += len + 1;
    r->n++;
}

static const char *row_get(const struct row *r, int column, size_t *len)
{
    int f = r->columns[column];
    if (f < 0 || f >= r->n) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = r->len[f];
    return r->text + r->start[f];
}

static void row_header(struct row *r, const char *const *wanted, int n_wanted)
{
    for (int c = 0; c < n_wanted; c++) {
        r->columns[c] = -1;
        for (int f = 0; f < r->n; f++) {
            if (!strcmp(r->text + r->start[f], wanted[c]))
                r->columns[c] = f;
        }
    }
    r->header_done = 1;
}

enum { A_INDICATOR, A_INPUT, A_VALUE };
static const char *const actual_columns[] = {"indicator", "input", "value"};

static void actual_row_end(int c, void *data)
{
    struct row *r = data;
    (void)c;
    r->line++;
    if (!r->header_done) {
        row_header(r, actual_columns, 3);
        if (r->columns[A_INDICATOR] < 0 || r->columns[A_INPUT] < 0 || r->columns[A_VALUE] < 0)
            die("actuals.csv: missing column", NULL);
    } else {
        static struct indicator_inputs *last;
        size_t id_len, name_len;
        const char *id = row_get(r, A_INDICATOR, &id_len);
        const char *name = row_get(r, A_INPUT, &name_len);
        const char *value = row_get(r, A_VALUE, NULL);
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end)
            die("actuals.csv: value is not a number", value);
        /* Rows of one indicator are usually together: skip the hash then. */
        if (!last || last->id_len != id_len || memcmp(last->id, id, id_len)) {
            size_t slot;
            void **found = map_slot(&by_indicator, id, id_len, &slot);
            if (found) {
                last = *found;
            } else {
                last = xmalloc(sizeof *last);
                last->id = arena_strndup(&strings, id, id_len);
                last->id_len = id_len;
                last->first = last->last = -1;
                map_put(&by_indicator, slot, last->id, id_len, last);
            }
        }
        if (n_inputs == cap_inputs) {
            cap_inputs = cap_inputs ? cap_inputs * 2 : 1 << 16;
            inputs = realloc(inputs, cap_inputs * sizeof *inputs);
            if (!inputs)
                die("out of memory", NULL);
        }
        inputs[n_inputs] = (struct input){intern(name, name_len), v, -1};
        if (last->last >= 0)
            inputs[last->last].next = (int)n_inputs;
        else
            last->first = (int)n_inputs;
        last->last = (int)n_inputs;
        n_inputs++;
    }
    r->n = 0;
    r->used = 0;
}

typedef void (*row_fn)(int, void *);

static void parse_file(const char *path, struct row *r, row_fn end_row)
{
    static char buf[1 << 20];
    struct csv_parser p;
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        die("cannot open", path);
    if (csv_init(&p, 0))
        die("csv_init failed", NULL);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&p, buf, n, row_field, end_row, r) != n)
            die(path, csv_strerror(csv_error(&p)));
    }
    if (ferror(f))
        die("cannot read", path);
    csv_fini(&p, row_field, end_row, r);
    csv_free(&p);
    fclose(f);
}

/* ---- formula shapes ---------------------------------------------------- */

enum shape { S_INPUT, S_RATIO, S_DIV100, S_SUM, S_SHARE3, S_PROGRESS, S_GROWTH, S_DIFF, S_OTHER };

struct formula {
    enum shape shape;
    int n_names;
    const char *names[MAX_NAMES]; /* interned, in order of appearance */
};

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Tokens as a signature: 'n' a name, '9' the number 100, '?' another
 * number, else the punctuation itself; the names go to names[]. */
static struct formula *parse_formula(const char *text)
{
    struct formula *fm = xcalloc(1, sizeof *fm);
    const char *fn_name = NULL;
    char sig[64];
    int n_sig = 0;
    const char *p = text;
    const char *names_seen[MAX_NAMES + 1];
    int n_seen = 0;

    while (*p && n_sig < (int)sizeof sig - 1) {
        if (*p == ' ' || *p == '\t') {
            p++;
        } else if (is_name_start(*p)) {
            const char *s = p;
            while (is_name_char(*p))
                p++;
            if (n_seen == MAX_NAMES + 1)
                break;
            names_seen[n_seen++] = intern(s, (size_t)(p - s));
            sig[n_sig++] = 'n';
        } else if (*p >= '0' && *p <= '9') {
            const char *s = p;
            while ((*p >= '0' && *p <= '9') || *p == '.')
                p++;
            sig[n_sig++] = (p - s == 3 && !memcmp(s, "100", 3)) ? '9' : '?';
        } else {
            sig[n_sig++] = *p++;
        }
    }
    sig[n_sig] = '\0';
    fm->shape = S_OTHER;
    if (*p || n_seen > MAX_NAMES)
        return fm;
    if (!strcmp(sig, "n")) {
        fm->shape = S_INPUT;
    } else if (!strcmp(sig, "n/n*9")) {
        fm->shape = S_DIV100;
    } else if (!strcmp(sig, "(n+n)/n*9")) {
        fm->shape = S_SHARE3;
    } else if (!strcmp(sig, "n-n")) {
        fm->shape = S_DIFF;
    } else if (n_sig >= 4 && sig[0] == 'n' && sig[1] == '(' && sig[n_sig - 1] == ')') {
        /* a call: n(n,n,...) */
        int ok = 1;
        for (int i = 2; i < n_sig - 1; i++)
            ok = ok && sig[i] == ((i % 2) ? ',' : 'n');
        ok = ok && sig[n_sig - 2] == 'n';
        fn_name = names_seen[0];
        if (ok && !strcmp(fn_name, "sum"))
            fm->shape = S_SUM;
        else if (ok && n_seen == 3 && !strcmp(fn_name, "ratio"))
            fm->shape = S_RATIO;
        else if (ok && n_seen == 3 && !strcmp(fn_name, "progress"))
            fm->shape = S_PROGRESS;
        else if (ok && n_seen == 3 && !strcmp(fn_name, "growth"))
            fm->shape = S_GROWTH;
    }
    if (fm->shape == S_OTHER)
        return fm;
    for (int i = fn_name ? 1 : 0; i < n_seen; i++)
        fm->names[fm->n_names++] = names_seen[i];
    return fm;
}

static struct map formulas;

static struct formula *formula_for(const char *text, size_t len)
{
    size_t slot;
    void **found = map_slot(&formulas, text, len, &slot);
    if (found)
        return *found;
    struct formula *fm = parse_formula(text);
    map_put(&formulas, slot, arena_strndup(&strings, text, len), len, fm);
    return fm;
}

/* ---- evaluation and scoring ------------------------------------------- */

enum status { OK, MISSING, ERROR, INVALID, N_STATUS };
static const char *const status_names[N_STATUS] = {"ok", "missing", "error", "invalid"};

/* Evaluates fm with the inputs of one indicator; *msg on failure. */
static enum status evaluate(const struct formula *fm, const struct indicator_inputs *in,
                            double *actual, const char **msg, const char **missing_name)
{
    double v[MAX_NAMES];

    if (fm->shape == S_OTHER) {
        *msg = "formula shape not supported by the floor";
        return ERROR;
    }
    for (int i = 0; i < fm->n_names; i++) {
        int j = in ? in->first : -1;
        while (j >= 0 && inputs[j].name != fm->names[i])
            j = inputs[j].next;
        if (j < 0) {
            *missing_name = fm->names[i];
            return MISSING;
        }
        v[i] = inputs[j].value;
    }
    double a = v[0], b = fm->n_names > 1 ? v[1] : 0, r;
    switch (fm->shape) {
    case S_INPUT: r = a; break;
    case S_DIV100: r = a / b * 100; break;
    case S_SHARE3: r = (a + b) / v[2] * 100; break;
    case S_DIFF: r = a - b; break;
    case S_SUM:
        r = 0;
        for (int i = 0; i < fm->n_names; i++)
            r += v[i];
        break;
    case S_RATIO:
        if (b == 0) {
            *msg = "ratio: whole is 0";
            return ERROR;
        }
        r = a / b * 100;
        break;
    case S_PROGRESS:
        if (b == 0) {
            *msg = "progress: plan is 0";
            return ERROR;
        }
        if (b < 0) {
            *msg = "progress: plan is negative";
            return ERROR;
        }
        r = a / b * 100;
        break;
    case S_GROWTH:
        if (b == 0) {
            *msg = "growth: previous is 0";
            return ERROR;
        }
        r = (a - b) / fabs(b) * 100;
        break;
    default: r = NAN; break;
    }
    if (!isfinite(r)) {
        *msg = "formula returned a value that is not a finite number";
        return ERROR;
    }
    *actual = r;
    return OK;
}

enum rule { R_RATIO, R_LINEAR, R_BINARY, R_OTHER };

static enum status score(enum rule rule, int decrease, double a, double t, double *rate,
                         const char **msg)
{
    int met = decrease ? a <= t : a >= t;
    double x;

    switch (rule) {
    case R_RATIO:
    case R_LINEAR:
        if (t < 0) {
            *msg = "cannot score: the target is negative";
            return ERROR;
        }
        if (t == 0)
            x = met ? 100 : 0;
        else if (!decrease)
            x = a / t * 100;
        else if (rule == R_LINEAR)
            x = (2 - a / t) * 100;
        else if (a < 0) {
            *msg = "cannot score: the actual is negative";
            return ERROR;
        } else if (a == 0)
            x = CAP;
        else
            x = t / a * 100;
        break;
    case R_BINARY: x = met ? 100 : 0; break;
    default: *msg = "scoring rule not supported by the floor"; return ERROR;
    }
    if (!isfinite(x)) {
        *msg = "cannot score: the achievement is not a finite number";
        return ERROR;
    }
    *rate = x < 0 ? 0 : x;
    return OK;
}

/* ---- output ------------------------------------------------------------ */

struct out {
    FILE *f;
    char *buf;
    size_t len;
};

#define OUT_SIZE (1u << 20)

static void out_flush(struct out *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
        die("write failed", NULL);
    o->len = 0;
}

static void out_bytes(struct out *o, const char *s, size_t n)
{
    if (o->len + n > OUT_SIZE) {
        out_flush(o);
        if (n > OUT_SIZE) {
            if (fwrite(s, 1, n, o->f) != n)
                die("write failed", NULL);
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_char(struct out *o, char c)
{
    if (o->len == OUT_SIZE)
        out_flush(o);
    o->buf[o->len++] = c;
}

static void out_str(struct out *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

static void out_field(struct out *o, const char *s, size_t n)
{
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
        out_bytes(o, s, n);
        return;
    }
    out_char(o, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            out_char(o, '"');
        out_char(o, s[i]);
    }
    out_char(o, '"');
}

/* %.15g, with -0 as 0; whole numbers below 1e15 without printf. */
static void out_number(struct out *o, double x)
{
    char buf[40];
    if (x == 0)
        x = 0;
    if (x > -1e15 && x < 1e15 && x == (double)(long long)x) {
        long long v = (long long)x;
        char *p = buf + sizeof buf;
        int neg = v < 0;
        unsigned long long u = neg ? (unsigned long long)(-v) : (unsigned long long)v;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (neg)
            *--p = '-';
        out_bytes(o, p, (size_t)(buf + sizeof buf - p));
        return;
    }
    out_bytes(o, buf, (size_t)snprintf(buf, sizeof buf, "%.15g", x));
}

/* Two decimals, rounded half away from zero on the 15-significant-digit
 * value: the 15 digits come from %.14e, the rounding is done on them as an
 * integer so that 1.005 gives 1.01. */
static void out_rate(struct out *o, double x)
{
    char sci[40], buf[48];
    long long kept = 0;

    snprintf(sci, sizeof sci, "%.14e", fabs(x));
    int exp10 = (int)strtol(sci + 17, NULL, 10);
    int keep = exp10 + 3; /* digits with place value >= 10^-2 */
    if (keep > 17)
        keep = 17; /* beyond any achievement; keeps the integer in range */
    for (int i = 0; i < keep; i++)
        kept = kept * 10 + (i < 15 ? sci[i == 0 ? 0 : i + 1] - '0' : 0);
    if (keep >= 0 && keep < 15 && sci[keep == 0 ? 0 : keep + 1] >= '5')
        kept++;
    int n = snprintf(buf, sizeof buf, "%s%lld.%02lld", x < 0 && kept ? "-" : "", kept / 100,
                     kept % 100);
    out_bytes(o, buf, (size_t)n);
}

/* ---- departments -------------------------------------------------------- */

struct department {
    const char *path;
    unsigned count[N_STATUS], kpis;
    double weight, weighted;
};

static struct map departments;

static struct department *department_for(const char *path, size_t len)
{
    size_t slot;
    void **found = map_slot(&departments, path, len, &slot);
    if (found)
        return *found;
    struct department *d = xcalloc(1, sizeof *d);
    d->path = arena_strndup(&strings, path, len);
    map_put(&departments, slot, d->path, len, d);
    return d;
}

/* Tree order: level by level, so a '/' sorts before any other byte. */
static int compare_tree(const void *pa, const void *pb)
{
    const unsigned char *a = (const unsigned char *)(*(struct department *const *)pa)->path;
    const unsigned char *b = (const unsigned char *)(*(struct department *const *)pb)->path;
    while (*a && *a == *b)
        a++, b++;
    int ca = *a == '/' ? 1 : *a ? *a + 1 : 0;
    int cb = *b == '/' ? 1 : *b ? *b + 1 : 0;
    return ca - cb;
}

static const char *grade_for(double achievement)
{
    return achievement >= 100 ? "S" : achievement >= 90 ? "A" : achievement >= 80 ? "B"
           : achievement >= 70 ? "C" : "D";
}

/* ---- indicators.csv, streamed ------------------------------------------ */

enum { I_ID, I_NAME, I_DEPARTMENT, I_UNIT, I_DIRECTION, I_BASELINE, I_TARGET, I_FORMULA,
       I_WEIGHT, I_SCORING, N_ICOLS };
static const char *const indicator_columns[N_ICOLS] = {
    "id", "name", "department", "unit", "direction", "baseline", "target", "formula", "weight",
    "scoring"};

struct run {
    struct row row;
    struct out kpis;
    /* The department chain of the previous KPI: most KPIs share it. */
    char last_department[1024];
    size_t last_len;
    struct department *chain[40];
    int chain_len;
};

static int parse_number(const char *s, double *x)
{
    char *end;
    if (!*s)
        return -1;
    *x = strtod(s, &end);
    return *end || !isfinite(*x) ? -1 : 0;
}

static void put_inputs(struct out *o, const struct formula *fm, const struct indicator_inputs *in)
{
    const struct input *shown[MAX_NAMES * 2];
    int n = 0, n_first = 0;

    if (!in)
        return;
    /* The formula's inputs in the order they appear, then the rest by name. */
    for (int i = 0; i < fm->n_names && n < MAX_NAMES * 2; i++) {
        int dup = 0;
        for (int k = 0; k < n; k++)
            dup = dup || shown[k]->name == fm->names[i];
        for (int j = in->first; !dup && j >= 0; j = inputs[j].next) {
            if (inputs[j].name == fm->names[i]) {
                shown[n++] = &inputs[j];
                break;
            }
        }
    }
    n_first = n;
    for (int j = in->first; j >= 0 && n < MAX_NAMES * 2; j = inputs[j].next) {
        int dup = 0;
        for (int k = 0; k < n_first; k++)
            dup = dup || shown[k] == &inputs[j];
        if (dup)
            continue;
        int at = n++;
        while (at > n_first && strcmp(shown[at - 1]->name, inputs[j].name) > 0) {
            shown[at] = shown[at - 1];
            at--;
        }
        shown[at] = &inputs[j];
    }
    for (int k = 0; k < n; k++) {
        if (k)
            out_bytes(o, "; ", 2);
        out_str(o, shown[k]->name);
        out_char(o, '=');
        out_number(o, shown[k]->value);
    }
}

static void indicator_row_end(int c, void *data)
{
    struct run *run = data;
    struct row *r = &run->row;
    struct out *o = &run->kpis;
    (void)c;

    r->line++;
    if (!r->header_done) {
        row_header(r, indicator_columns, N_ICOLS);
        for (int k = 0; k < N_ICOLS; k++) {
            if (r->columns[k] < 0 && k != I_UNIT && k != I_DIRECTION && k != I_BASELINE &&
                k != I_WEIGHT && k != I_SCORING)
                die("indicators.csv: missing column", indicator_columns[k]);
        }
        r->n = 0;
        r->used = 0;
        return;
    }

    size_t id_len, formula_len, department_len, len;
    const char *id = row_get(r, I_ID, &id_len);
    const char *department = row_get(r, I_DEPARTMENT, &department_len);
    const char *formula = row_get(r, I_FORMULA, &formula_len);
    const char *direction = row_get(r, I_DIRECTION, NULL);
    const char *scoring = row_get(r, I_SCORING, NULL);
    const char *text;
    const char *msg = NULL, *missing_name = NULL;
    double target = 0, baseline = 0, weight = 1, actual = 0, rate = 0;
    int has_baseline = 0, has_actual = 0;
    enum status st = OK;

    const struct formula *fm = formula_for(formula, formula_len);
    size_t slot;
    void **found = map_slot(&by_indicator, id, id_len, &slot);
    const struct indicator_inputs *in = found ? *found : NULL;
    int decrease = !strcmp(direction, "decrease");
    enum rule rule = !*scoring ? R_RATIO : !strcmp(scoring, "linear") ? R_LINEAR
                     : !strcmp(scoring, "binary") ? R_BINARY : R_OTHER;

    text = row_get(r, I_BASELINE, &len);
    if (len && strcmp(text, "-")) {
        has_baseline = 1;
        if (parse_number(text, &baseline))
            st = INVALID, msg = "baseline is not a number";
    }
    if (parse_number(row_get(r, I_TARGET, NULL), &target))
        st = INVALID, msg = "target is not a number";
    text = row_get(r, I_WEIGHT, &len);
    if (len && (parse_number(text, &weight) || weight < 0 || weight > 1e9))
        st = INVALID, msg = "weight is not a number from 0 to 1e9";
    if (*direction && !decrease && strcmp(direction, "increase"))
        st = INVALID, msg = "direction is not increase or decrease";
    if (st == OK) {
        st = evaluate(fm, in, &actual, &msg, &missing_name);
        has_actual = st == OK;
    }
    if (st == OK)
        st = score(rule, decrease, actual, target, &rate, &msg);
    double capped = rate < CAP ? rate : CAP;

    /* id,name,department,unit,direction,baseline,target,formula,inputs,
     * actual,achievement,achievement_capped,weight,status,message */
    for (int k = I_ID; k <= I_UNIT; k++) {
        text = row_get(r, k, &len);
        out_field(o, text, len);
        out_char(o, ',');
    }
    out_str(o, decrease ? "decrease," : "increase,");
    if (has_baseline)
        out_number(o, baseline);
    out_char(o, ',');
    out_number(o, target);
    out_char(o, ',');
    out_field(o, formula, formula_len);
    out_char(o, ',');
    put_inputs(o, fm, in);
    out_char(o, ',');
    if (has_actual)
        out_number(o, actual);
    out_char(o, ',');
    if (st == OK) {
        out_rate(o, rate);
        out_char(o, ',');
        out_rate(o, capped);
    } else {
        out_char(o, ',');
    }
    out_char(o, ',');
    out_number(o, weight);
    out_char(o, ',');
    out_str(o, status_names[st]);
    out_char(o, ',');
    if (st == MISSING) {
        out_str(o, "input '");
        out_str(o, missing_name);
        out_str(o, "' missing");
    } else if (msg) {
        out_str(o, msg);
    }
    out_char(o, '\n');

    /* Count the KPI in its department and every one above it. */
    if (department_len != run->last_len || memcmp(department, run->last_department, department_len)) {
        if (department_len >= sizeof run->last_department)
            die("department path too long", department);
        memcpy(run->last_department, department, department_len);
        run->last_len = department_len;
        run->chain_len = 0;
        for (size_t i = 0; i <= department_len; i++) {
            if (i == department_len || department[i] == '/') {
                if (run->chain_len == 40)
                    die("department path too deep", department);
                run->chain[run->chain_len++] = department_for(department, i);
            }
        }
    }
    for (int k = 0; k < run->chain_len; k++) {
        struct department *d = run->chain[k];
        d->kpis++;
        d->count[st]++;
        if (st == OK) {
            d->weight += weight;
            d->weighted += weight * capped;
        }
    }
    r->n = 0;
    r->used = 0;
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot write", path);
    return f;
}

int main(int argc, char **argv)
{
    char path[4096];
    static struct run run;
    struct row actual_row = {0};

    if (argc != 3) {
        fputs("usage: floor DIR OUT\n", stderr);
        return 2;
    }
    snprintf(path, sizeof path, "%s/actuals.csv", argv[1]);
    parse_file(path, &actual_row, actual_row_end);

    run.kpis.f = open_out(argv[2], "kpis.csv");
    run.kpis.buf = xmalloc(OUT_SIZE);
    out_str(&run.kpis, "id,name,department,unit,direction,baseline,target,formula,inputs,"
                       "actual,achievement,achievement_capped,weight,status,message\n");
    snprintf(path, sizeof path, "%s/indicators.csv", argv[1]);
    parse_file(path, &run.row, indicator_row_end);
    out_flush(&run.kpis);
    if (fclose(run.kpis.f))
        die("write failed", "kpis.csv");

    struct department **list = xmalloc(departments.n * sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < departments.cap; i++) {
        if (departments.keys[i])
            list[n++] = departments.values[i];
    }
    qsort(list, n, sizeof *list, compare_tree);
    struct out deps = {open_out(argv[2], "departments.csv"), xmalloc(OUT_SIZE), 0};
    out_str(&deps, "department,kpis,ok,missing,error,invalid,achievement,grade\n");
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        struct department *d = list[i];
        out_field(&deps, d->path, strlen(d->path));
        out_bytes(&deps, buf,
                  (size_t)snprintf(buf, sizeof buf, ",%u,%u,%u,%u,%u,", d->kpis, d->count[OK],
                                   d->count[MISSING], d->count[ERROR], d->count[INVALID]));
        if (d->weight > 0 && isfinite(d->weighted / d->weight)) {
            double achievement = d->weighted / d->weight;
            out_rate(&deps, achievement);
            out_char(&deps, ',');
            out_str(&deps, grade_for(achievement));
        } else {
            out_char(&deps, ',');
        }
        out_char(&deps, '\n');
    }
    out_flush(&deps);
    if (fclose(deps.f))
        die("write failed", "departments.csv");
    return 0;
}
