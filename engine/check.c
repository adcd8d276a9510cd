#include "kpieval/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formula.h"
#include "kpieval/rules.h"
#include "input_file.h"
#include "lua_names.h"
#include "model.h"
#include "strmap.h"
#include "suggest.h"
#include "text.h"
#include "worker.h"

/* The files of a dataset that messages name by their bare name. */
static const char *const dataset_files[] = {"indicators.csv", "actuals.csv", "rules.csv"};

/* Where byte `at` of the current text is, kept from one finding to the
 * next: the names of a text come in text order, so each finding moves on
 * from the last one and a text of many findings is read once. */
struct spot {
    const struct kpi_indicator *k;
    const char *text;
    size_t at;
    const char *ls;      /* the start of at's line in text */
    unsigned text_line;  /* lines of text before ls */
    bool in_file;        /* v, line, column below are known */
    const char *v;       /* the file byte of at */
    int q;               /* the cell is quoted */
    unsigned line, column;
};

struct checker {
    const struct kpi_run_options *opt;
    kpi_dataset *ds;
    kpi_rules *rules;          /* rules.csv, compiled with the formulas */
    kpi_formulas *fe;
    void (*emit)(void *ctx, const struct kpi_diagnostic *d);
    void *ctx;
    struct kpi_check_counts *counts;
    char *indicators;          /* the file's text, to place a formula's columns; NULL when
                                  it cannot be read or is not UTF-8 */
    int formula_field;         /* its column index, or -1 */
    int scoring_field;         /* the same for scoring */
    size_t *line_at;           /* offset of each line's start in it (line_at[0]: line 1) */
    size_t n_lines;
    const struct kpi_indicator *k; /* the KPI whose names are being resolved */
    unsigned *compile_line;    /* per expression: 0 compiles, else Lua's line (1-based) */
    char **compile_msg;        /* per expression: Lua's message, or NULL */
    size_t n_expr;
    const char *what;          /* "formula" or "scoring expression" */
    const char *text;          /* the text whose names are being resolved */
    struct spot spot;          /* where the last finding was (emit_at) */
    struct kpi_strmap seen;    /* the names of text met so far (copies in seen_names) */
    char **seen_names;
    size_t n_seen, cap_seen;
    int rc;
};

static void emit(struct checker *c, struct kpi_diagnostic *d)
{
    if (d->severity == KPI_SEVERITY_ERROR)
        c->counts->errors++;
    else
        c->counts->warnings++;
    c->emit(c->ctx, d);
}

/* "DIR/NAME" for a bare dataset file name, into buf. */
static const char *dataset_path(const struct checker *c, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", c->opt->dataset, name);
    return buf;
}

/* A message "indicators.csv:LINE[:COL]: rest" (as the loader and builder
 * write them) as a diagnostic at that place. */
static void emit_located(struct checker *c, enum kpi_severity sev, const char *msg,
                         const char *setting, const char *kpi)
{
    struct kpi_diagnostic d = {.severity = sev, .message = msg, .setting = setting};
    char path[4200], named[1200];

    for (size_t i = 0; i < sizeof dataset_files / sizeof dataset_files[0]; i++) {
        size_t n = strlen(dataset_files[i]);
        if (strncmp(msg, dataset_files[i], n) || msg[n] != ':')
            continue;
        char *end;
        unsigned long line = strtoul(msg + n + 1, &end, 10), col = 0;
        d.file = dataset_path(c, dataset_files[i], path, sizeof path);
        if (end == msg + n + 1 || *end != ':') { /* "FILE: ...": the whole file */
            d.message = msg + n + 1 + (msg[n + 1] == ' ');
            break;
        }
        if (end[1] >= '0' && end[1] <= '9') {
            char *end2;
            col = strtoul(end + 1, &end2, 10);
            if (*end2 == ':')
                end = end2;
            else
                col = 0;
        }
        d.line = (unsigned)line;
        d.column = (unsigned)col;
        d.message = end + 1 + (end[1] == ' ');
        break;
    }
    if (kpi) { /* a finding about one KPI names it, as every other does */
        char quoted[300];
        snprintf(quoted, sizeof quoted, "'%s'", kpi);
        if (!strstr(d.message, quoted)) {
            snprintf(named, sizeof named, "%s: %s", quoted, d.message);
            d.message = named;
        }
    }
    emit(c, &d);
}

/* ---- where a formula's byte is in indicators.csv ------------------------ */

/* Reads indicators.csv whole when it is UTF-8, so that a formula's spot
 * can be given as the file's line and column. */
static void read_indicators(struct checker *c)
{
    char path[4200];
    struct stat st;

    c->formula_field = -1;
    if (c->opt->encoding != KPI_ENCODING_UTF8)
        return; /* columns of the converted text are not the file's */
    dataset_path(c, "indicators.csv", path, sizeof path);
    /* opened as the loader opens it: a regular file, no link */
    int fd = kpi_input_open(path, path, KPI_EINPUT, &st, NULL);
    if (fd < 0)
        return;
    if (st.st_size < 256 * 1024 * 1024 && (c->indicators = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        ssize_t r;
        while (got < (size_t)st.st_size &&
               ((r = read(fd, c->indicators + got, (size_t)st.st_size - got)) > 0 ||
                (r < 0 && errno == EINTR)))
            got += r > 0 ? (size_t)r : 0;
        c->indicators[got] = '\0';
        if (strlen(c->indicators) != got) { /* a NUL: the loader refused it anyway */
            free(c->indicators);
            c->indicators = NULL;
        }
    }
    close(fd);
}

/* Steps over one CSV field starting at p, calling back for each byte of its
 * value (after an opening quote; a doubled quote is one byte). Returns the
 * delimiter or line end after it. */
static const char *skip_field(const char *p, const char **value_start, int *quoted)
{
    *quoted = *p == '"';
    if (*quoted) {
        p++;
        *value_start = p;
        while (*p && !(p[0] == '"' && p[1] != '"'))
            p += p[0] == '"' ? 2 : 1;
        if (*p == '"')
            p++;
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
            p++;
        return p;
    }
    *value_start = p;
    while (*p && *p != ',' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* The start of line `line` (1-based) of text, or NULL. */
static const char *line_start(const char *text, unsigned line)
{
    const char *p = text;
    for (unsigned l = 1; p && l < line; l++)
        if ((p = strchr(p, '\n')))
            p++;
    return p;
}

/* The start of line `line` of indicators.csv, or NULL: from the index of
 * line starts, so that placing every finding of a large plan stays linear. */
static const char *file_line(const struct checker *c, unsigned line)
{
    return c->line_at && line >= 1 && line <= c->n_lines ? c->indicators + c->line_at[line - 1]
                                                         : NULL;
}

static void index_lines(struct checker *c)
{
    size_t n = 1;
    if (!c->indicators)
        return;
    for (const char *p = c->indicators; (p = strchr(p, '\n')); p++)
        n++;
    if (!(c->line_at = malloc(n * sizeof *c->line_at))) {
        free(c->indicators); /* no places then, only lines */
        c->indicators = NULL;
        return;
    }
    c->line_at[0] = 0;
    c->n_lines = 1;
    for (const char *p = c->indicators; (p = strchr(p, '\n')); p++)
        c->line_at[c->n_lines++] = (size_t)(p + 1 - c->indicators);
}

/* The index of column `name` in the header, or -1. */
static int find_field(const struct checker *c, const char *name)
{
    const char *p = c->indicators;
    size_t n = strlen(name);
    if (!p)
        return -1;
    if (!strncmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    for (int i = 0; *p && *p != '\n' && *p != '\r'; i++) {
        const char *v;
        int q;
        const char *end = skip_field(p, &v, &q);
        const char *ve = q && end > v && end[-1] == '"' ? end - 1 : end;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if ((size_t)(ve - v) == n && !strncmp(v, name, n))
            return i;
        p = *end == ',' ? end + 1 : end;
    }
    return -1;
}

/* Starts s at byte 0 of c->text, k's cell in column `field`. */
static void spot_start(const struct checker *c, const struct kpi_indicator *k, int field,
                       struct spot *s)
{
    const char *p = file_line(c, k->line), *p0 = p, *v = NULL;

    *s = (struct spot){.k = k, .text = c->text, .ls = c->text};
    if (!p || field < 0)
        return;
    for (int i = 0; i <= field; i++) {
        const char *end = skip_field(p, &v, &s->q);
        if (i < field) {
            if (*end != ',')
                return;
            p = end + 1;
        }
    }
    s->line = k->line;
    for (const char *b = p0; b < v; b++)
        s->line += *b == '\n'; /* an earlier cell of the row may hold line breaks */
    /* columns count characters: those before v on its line */
    const char *ls = v;
    while (ls > c->indicators && ls[-1] != '\n')
        ls--;
    s->column = 1;
    for (const char *b = ls; b < v; b++)
        s->column += ((unsigned char)*b & 0xC0) != 0x80;
    while (*v == ' ' || *v == '\t') /* the loader trims the cell */
        v++, s->column++;
    s->v = v;
    s->in_file = true;
}

/* Moves s on to byte `at` of its text. */
static void spot_advance(struct spot *s, size_t at)
{
    for (; s->at < at && s->text[s->at]; s->at++) {
        if (s->text[s->at] == '\n')
            s->ls = s->text + s->at + 1, s->text_line++;
        if (!s->in_file || !*s->v)
            continue;
        if (s->q && s->v[0] == '"' && s->v[1] == '"')
            s->v++, s->column++;
        if (*s->v == '\n')
            s->line++, s->column = 1;
        else if (((unsigned char)*s->v & 0xC0) != 0x80)
            s->column++;
        s->v++;
    }
}

/* The shown part of a long line: this many bytes around the spot. */
#define SHOWN_BEFORE 60
#define SHOWN_AFTER 100

/* A diagnostic at byte `at` (span len) of the KPI's current text. */
static void emit_at(struct checker *c, enum kpi_severity sev, size_t at, size_t len,
                    const char *names, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void emit_at(struct checker *c, enum kpi_severity sev, size_t at, size_t len,
                    const char *names, const char *fmt, ...)
{
    const struct kpi_indicator *k = c->k;
    struct spot *sp = &c->spot;
    char msg[1024], path[4200], shown[SHOWN_BEFORE + SHOWN_AFTER + 16];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sp->k != k || sp->text != c->text || sp->at > at)
        spot_start(c, k, c->text == k->formula ? c->formula_field : c->scoring_field, sp);
    spot_advance(sp, at);
    /* the line, or a window of it around the spot, cut at characters */
    const char *from = sp->ls, *to = sp->ls + strcspn(sp->ls, "\r\n");
    bool cut_before = c->text + at - from > SHOWN_BEFORE;
    if (cut_before) {
        from = c->text + at - SHOWN_BEFORE;
        while (((unsigned char)*from & 0xC0) == 0x80)
            from++;
    }
    if (to - (c->text + at) > SHOWN_AFTER) {
        to = c->text + at + SHOWN_AFTER;
        while (to > from && ((unsigned char)*to & 0xC0) == 0x80)
            to--;
    }
    snprintf(shown, sizeof shown, "%s%.*s%s", cut_before ? "..." : "", (int)(to - from), from,
             *to && *to != '\r' && *to != '\n' ? "..." : "");
    struct kpi_diagnostic d = {
        .severity = sev,
        .file = dataset_path(c, "indicators.csv", path, sizeof path),
        .line = sp->in_file ? sp->line : k->line + sp->text_line,
        .column = sp->in_file ? sp->column : 0,
        .message = msg,
        .source = shown,
        .span_at = (size_t)(c->text + at - from) + (cut_before ? 3 : 0),
        .span_len = len,
        .names = names,
    };
    if (d.span_at > strlen(shown))
        d.span_at = strlen(shown);
    emit(c, &d);
}

/* ---- names -------------------------------------------------------------- */

static bool has_input(const struct kpi_indicator *k, const char *name)
{
    for (unsigned i = 0; i < k->n_inputs; i++)
        if (!strcmp(k->inputs[i].name, name))
            return true;
    return false;
}

/* The KPI's inputs (those with data and those declared) as "a, b". */
static void input_list(const struct kpi_indicator *k, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < k->n_inputs && len + 3 < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
                                k->inputs[i].name);
    for (const char *p = k->declared; p && *p && len + 3 < size;) {
        size_t n = strcspn(p, ";");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p);
        if (!has_input(k, name))
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", name);
        p += n + (p[n] == ';');
    }
    if (len >= size)
        out[size - 1] = '\0';
}

/* The near name to suggest for `name` in a formula of k, into out. */
static const char *suggestion(struct checker *c, const char *name, bool scoring, char *out,
                              size_t size)
{
    const struct kpi_indicator *k = c->k;
    static const char *const scoring_names[] = {"actual", "target", "baseline", "kpi"};
    struct kpi_suggest s;
    char list[2048];

    kpi_suggest_init(&s, name, strlen(name), false);
    if (scoring) {
        for (size_t i = 0; i < sizeof scoring_names / sizeof scoring_names[0]; i++)
            kpi_suggest_offer(&s, scoring_names[i], 0);
    } else {
        /* the inputs, but those the formula reads itself (suggest.h) */
        input_list(k, list, sizeof list);
        for (char *p = list; *p;) {
            size_t n = strcspn(p, ",");
            char save = p[n];
            p[n] = '\0';
            if (kpi_suggest_near(&s, p) && !kpi_text_has_word(k->formula, p))
                kpi_suggest_offer_list(&s, p, " ");
            p[n] = save;
            p += n + strspn(p + n, ", ");
        }
        kpi_suggest_offer(&s, "kpi", 0);
    }
    kpi_formulas_offer_names(c->fe, &s);
    const char *pick = kpi_suggest_pick(&s);
    snprintf(out, size, "%s", pick ? pick : "");
    return out;
}

static void check_name(void *ctx, const struct kpi_lua_name *use)
{
    struct checker *c = ctx;
    const struct kpi_indicator *k = c->k;
    bool scoring = c->text != k->formula;
    char near[64], dym[96], names[2048];
    const char *period = kpi_dataset_period(c->ds);

    /* each name once per text: a set of those met, so that a text of
     * many uses stays linear */
    if (kpi_strmap_find(&c->seen, use->name, NULL))
        return;
    char *copy = strdup(use->name);
    if (!copy || kpi_strmap_put(&c->seen, copy, 0, NULL, NULL) < 0 ||
        kpi_model_grow((void **)&c->seen_names, &c->cap_seen, c->n_seen + 1,
                       sizeof *c->seen_names)) {
        free(copy);
        c->rc = KPI_ENOMEM;
        return;
    }
    c->seen_names[c->n_seen++] = copy;
    if (!scoring && has_input(k, use->name))
        return;
    if (scoring && (!strcmp(use->name, "actual") || !strcmp(use->name, "target")))
        return;
    if (scoring && !strcmp(use->name, "baseline")) {
        if (!k->has_baseline)
            emit_at(c, KPI_SEVERITY_ERROR, use->offset, use->len, NULL,
                    "'%s': the scoring expression uses baseline, and the KPI has none (its "
                    "baseline cell is empty or '-')",
                    k->id);
        return;
    }
    enum kpi_name_kind kind = kpi_formulas_name_kind(c->fe, use->name);
    if (kind == KPI_NAME_FORBIDDEN) {
        emit_at(c, KPI_SEVERITY_ERROR, use->offset, use->len, NULL,
                "'%s': '%s' is not available to formulas (see docs/security.md)", k->id,
                use->name);
        return;
    }
    if (kind == KPI_NAME_BROKEN) {
        emit_at(c, KPI_SEVERITY_ERROR, use->offset, use->len, NULL,
                "'%s': calls plugin '%s', which failed to load (see its file's error): the KPI "
                "will be in error",
                k->id, use->name);
        return;
    }
    if (kind != KPI_NAME_UNKNOWN)
        return;
    suggestion(c, use->name, scoring, near, sizeof near);
    if (*near)
        snprintf(dym, sizeof dym, "; did you mean '%s'?", near);
    else
        dym[0] = '\0';
    if (scoring) {
        emit_at(c, KPI_SEVERITY_ERROR, use->offset, use->len,
                k->has_baseline ? "actual, target, baseline, kpi" : "actual, target, kpi",
                "'%s': unknown name '%s' in the scoring expression (it sees actual, target, "
                "baseline, kpi, the plugins and the library)%s",
                k->id, use->name, dym);
        return;
    }
    input_list(k, names, sizeof names);
    if (k->declared && kpi_indicator_declares(k, use->name)) {
        emit_at(c, KPI_SEVERITY_WARNING, use->offset, use->len, NULL,
                "'%s': declared input '%s' has no value%s%s%s: the KPI will be missing", k->id,
                use->name, period ? " in period '" : "", period ? period : "",
                period ? "'" : "");
    } else if (k->declared) {
        emit_at(c, KPI_SEVERITY_ERROR, use->offset, use->len, names,
                "'%s': unknown name '%s': not among the inputs the KPI declares, a plugin or "
                "the library%s",
                k->id, use->name, dym);
    } else if (use->call) {
        char plugins[1024];
        kpi_formulas_plugin_list(c->fe, plugins, sizeof plugins);
        emit_at(c, KPI_SEVERITY_ERROR, use->offset, use->len, plugins,
                "'%s': unknown function '%s': no plugin or library function has that name%s",
                k->id, use->name, dym);
    } else {
        emit_at(c, KPI_SEVERITY_WARNING, use->offset, use->len, *names ? names : NULL,
                "'%s': '%s' has no value%s%s%s: the KPI will be missing%s%s", k->id, use->name,
                period ? " in period '" : "", period ? period : "", period ? "'" : "",
                *dym ? " (a misspelt input?)" : "", dym);
    }
}

/* ---- syntax ------------------------------------------------------------- */

/* Where in text a Lua syntax message "formula:LINE: ... near 'TOKEN'"
 * points: the token when it occurs once on that line, the line's end for
 * <eof>, else the line's start. */
static size_t syntax_spot(const char *text, const char *msg, unsigned fline, size_t *len)
{
    const char *line = line_start(text, fline), *near = msg ? strstr(msg, " near ") : NULL;
    *len = 0;
    if (!line)
        return 0;
    size_t n = strcspn(line, "\r\n"), at = (size_t)(line - text);
    if (!near)
        return at;
    near += 6;
    if (!strncmp(near, "<eof>", 5))
        return at + n;
    if (*near != '\'')
        return at;
    const char *end = strrchr(near + 1, '\'');
    size_t tlen = end ? (size_t)(end - near - 1) : 0, hits = 0, hit = 0;
    for (size_t i = 0; tlen && i + tlen <= n; i++)
        if (!strncmp(line + i, near + 1, tlen))
            hits++, hit = i;
    if (hits != 1)
        return at;
    *len = tlen;
    return at + hit;
}

/* The mark of an expression that compiles. */
static char compiles[] = "";

static void check_compiles(struct checker *c, unsigned id, const char *what)
{
    const struct kpi_indicator *k = c->k;
    char msg[KPI_MESSAGE_MAX];

    if (c->compile_line[id] == 0 && !c->compile_msg[id]) {
        if (kpi_formulas_compiles(c->fe, id, msg)) {
            c->compile_line[id] = 0;
            c->compile_msg[id] = compiles;
        } else {
            unsigned long fline = !strncmp(msg, "formula:", 8) ? strtoul(msg + 8, NULL, 10) : 0;
            c->compile_line[id] = fline ? (unsigned)fline : 1;
            c->compile_msg[id] = strdup(msg);
            if (!c->compile_msg[id])
                c->rc = KPI_ENOMEM;
        }
    }
    if (!c->compile_msg[id] || !*c->compile_msg[id])
        return;
    const char *m = c->compile_msg[id], *colon = strchr(m + (strncmp(m, "formula:", 8) ? 0 : 8), ':');
    const char *text = !strncmp(m, "formula:", 8) && colon ? colon + 1 + (colon[1] == ' ') : m;
    size_t len, at = syntax_spot(c->text, m, c->compile_line[id], &len);
    emit_at(c, KPI_SEVERITY_ERROR, at, len, NULL, "'%s': the %s does not compile: %s", k->id,
            what, text);
}

/* ---- the whole check ---------------------------------------------------- */

/* Resolves the names of text (k's formula or scoring expression). */
static void check_names(struct checker *c, const char *text)
{
    c->text = text;
    kpi_strmap_init(&c->seen);
    if (kpi_lua_names(text, check_name, c))
        c->rc = KPI_ENOMEM;
    kpi_strmap_release(&c->seen);
    for (size_t i = 0; i < c->n_seen; i++)
        free(c->seen_names[i]);
    c->n_seen = 0;
}

static void check_kpi(struct checker *c, const struct kpi_indicator *k)
{
    c->k = k;
    if (k->invalid) {
        emit_located(c, KPI_SEVERITY_ERROR, k->invalid, NULL, k->id);
        return;
    }
    for (unsigned i = 0; i < k->n_deps; i++) {
        const struct kpi_indicator *dep = kpi_dataset_find(c->ds, k->deps[i]);
        if (dep && dep->invalid) {
            char path[4200];
            char msg[600];
            snprintf(msg, sizeof msg, "'%s' reads '%s', which is invalid: the KPI will be in error",
                     k->id, dep->id);
            struct kpi_diagnostic d = {.severity = KPI_SEVERITY_ERROR, .message = msg,
                                       .file = dataset_path(c, "indicators.csv", path, sizeof path),
                                       .line = k->line};
            emit(c, &d);
        }
    }
    c->text = k->formula;
    check_compiles(c, k->formula_id, "formula");
    if (!*c->compile_msg[k->formula_id])
        check_names(c, k->formula);
    if (k->scoring == KPI_SCORING_EXPRESSION) {
        c->text = k->scoring_text;
        check_compiles(c, k->scoring_id, "scoring expression");
        if (!*c->compile_msg[k->scoring_id])
            check_names(c, k->scoring_text);
    }
}

/* A load or plugin error as a diagnostic: at its file and line when the
 * error names them. */
static void emit_error(struct checker *c, const struct kpi_error *e)
{
    char path[4200];
    const char *msg = e->message;
    struct kpi_diagnostic d = {.severity = KPI_SEVERITY_ERROR, .message = msg,
                               .setting = e->setting};

    for (size_t i = 0; e->file[0] && i < sizeof dataset_files / sizeof dataset_files[0]; i++)
        if (!strcmp(e->file, dataset_files[i])) {
            emit_located(c, KPI_SEVERITY_ERROR, msg, e->setting, NULL);
            return;
        }
    if (e->file[0]) {
        size_t n = strlen(e->file);
        d.file = e->file;
        d.line = e->line;
        d.column = e->column;
        /* "PATH:LINE: rest" or "PATH: rest": keep the rest */
        if (!strncmp(msg, e->file, n) && msg[n] == ':') {
            const char *r = msg + n + 1;
            while ((*r >= '0' && *r <= '9') || *r == ':')
                r++;
            d.message = r + (*r == ' ');
        }
    }
    (void)path;
    emit(c, &d);
}

static int by_line(const void *a, const void *b)
{
    const struct kpi_indicator *x = *(const struct kpi_indicator *const *)a;
    const struct kpi_indicator *y = *(const struct kpi_indicator *const *)b;
    return (x->line > y->line) - (x->line < y->line);
}

int kpi_check(const struct kpi_run_options *opt,
              void (*on_diagnostic)(void *ctx, const struct kpi_diagnostic *d), void *ctx,
              struct kpi_check_counts *counts, struct kpi_error *err)
{
    struct kpi_load_options load = {opt->period, opt->encoding, NULL};
    struct checker c = {.opt = opt, .emit = on_diagnostic, .ctx = ctx, .counts = counts};
    struct kpi_error e = {0};
    const char *dirs[2 + 64];
    char dataset_formulas[4200];
    size_t n_dirs = 0, n;
    int rc = 0;

    memset(counts, 0, sizeof *counts);
    if (opt->stdlib_missing) {
        kpi_error_set(&e, KPI_EPLUGIN, "%s", opt->stdlib_missing);
        emit_error(&c, &e);
        return 0;
    }
    if (kpi_dataset_load(opt->dataset, &load, &c.ds, &e)) {
        if (e.code == KPI_ENOMEM)
            return kpi_error_set(err, KPI_ENOMEM, "%s", e.message);
        emit_error(&c, &e);
        return 0;
    }
    if ((rc = kpi_rules_load(opt->dataset, c.ds, opt->encoding, NULL, &c.rules, &e))) {
        if (e.code == KPI_ENOMEM) {
            rc = kpi_error_set(err, KPI_ENOMEM, "%s", e.message);
            goto out;
        }
        emit_error(&c, &e);
        rc = 0;
        goto warnings;
    }
    const struct kpi_indicator *ks = kpi_dataset_indicators(c.ds, &counts->kpis);
    kpi_dataset_expressions(c.ds, &c.n_expr);
    counts->expressions = c.n_expr;

    if (opt->stdlib_dir)
        dirs[n_dirs++] = opt->stdlib_dir;
    snprintf(dataset_formulas, sizeof dataset_formulas, "%s/formulas", opt->dataset);
    dirs[n_dirs++] = dataset_formulas;
    for (size_t i = 0; i < opt->n_formula_dirs && n_dirs < sizeof dirs / sizeof dirs[0]; i++)
        dirs[n_dirs++] = opt->formula_dirs[i];
    struct kpi_sandbox_limits limits = {opt->instruction_limit, opt->memory_limit,
                                        opt->time_limit};
    if ((rc = kpi_formulas_new(c.ds, &limits, dirs, n_dirs, &c.fe, &e)) ||
        (rc = kpi_formulas_set_rules(c.fe, c.rules, &e)) ||
        (rc = opt->in_process ? kpi_formulas_check_plugins(c.fe, &e)
                              : kpi_workers_check_plugins(
                                    c.fe, opt->time_limit > 0 ? opt->time_limit : KPI_DEFAULT_SECONDS,
                                    &e))) {
        if (e.code == KPI_ENOMEM) {
            rc = kpi_error_set(err, KPI_ENOMEM, "%s", e.message);
            goto out;
        }
        emit_error(&c, &e);
        rc = 0;
        goto warnings; /* names cannot be resolved without the plugins */
    }
    /* a plugin that failed to load costs the KPIs that call it: an error
     * at its file, and one at each call */
    counts->plugins = kpi_formulas_plugin_count(c.fe);
    for (size_t i = 0; i < counts->plugins; i++) {
        const char *broken = kpi_formulas_plugin_broken(c.fe, i);
        const char *path = kpi_formulas_plugin_file(c.fe, i, &(const char *){0}, &n);
        if (!broken || !path)
            continue;
        struct kpi_error pe = {0};
        kpi_error_at(&pe, KPI_EPLUGIN, path, 0, 0, "%s", broken);
        /* "PATH:LINE: ..." gives the line */
        size_t plen = strlen(path);
        if (!strncmp(broken, path, plen) && broken[plen] == ':')
            pe.line = (unsigned)strtoul(broken + plen + 1, NULL, 10);
        emit_error(&c, &pe);
    }

    read_indicators(&c);
    index_lines(&c);
    c.formula_field = find_field(&c, "formula");
    c.scoring_field = find_field(&c, "scoring");
    c.compile_line = calloc(c.n_expr ? c.n_expr : 1, sizeof *c.compile_line);
    c.compile_msg = calloc(c.n_expr ? c.n_expr : 1, sizeof *c.compile_msg);
    if (!c.compile_line || !c.compile_msg) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    /* in file order, as the warnings are */
    const struct kpi_indicator **order = malloc((counts->kpis ? counts->kpis : 1) * sizeof *order);
    if (!order) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < counts->kpis; i++)
        order[i] = &ks[i];
    qsort(order, counts->kpis, sizeof *order, by_line);
    for (size_t i = 0; i < counts->kpis && !c.rc; i++) {
        check_kpi(&c, order[i]);
        if (kpi_formulas_tripped(c.fe) && (c.rc = kpi_formulas_rebuild(c.fe, &e)))
            break;
    }
    free(order);
    if (c.rc) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
warnings:;
    size_t n_warn, total;
    const char *const *w = kpi_dataset_warnings(c.ds, &n_warn, &total);
    for (size_t i = 0; i < n_warn; i++)
        emit_located(&c, KPI_SEVERITY_WARNING, w[i], NULL, NULL);
    counts->warnings += total - n_warn;
out:
    for (size_t i = 0; c.compile_msg && i < c.n_expr; i++)
        if (c.compile_msg[i] != compiles)
            free(c.compile_msg[i]);
    free(c.compile_msg);
    free(c.compile_line);
    free(c.indicators);
    free(c.line_at);
    free(c.seen_names);
    kpi_formulas_free(c.fe);
    kpi_rules_free(c.rules);
    kpi_dataset_free(c.ds);
    return rc;
}
