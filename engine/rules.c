#include "kpieval/rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "csv_reader.h"
#include "strmap.h"
#include "text.h"

#define RULES "rules.csv"

struct kpi_rules {
    struct kpi_arena arena;
    struct kpi_rule *rules;
    size_t n, cap;
    struct kpi_strmap ids; /* id -> index */
};

enum { COL_ID, COL_KPI, COL_CHECK, COL_SEVERITY, COL_MESSAGE, N_COLUMNS };

static const struct {
    const char *name;
    bool required;
} columns[N_COLUMNS] = {
    [COL_ID] = {"id", true},
    [COL_KPI] = {"kpi", false},
    [COL_CHECK] = {"check", true},
    [COL_SEVERITY] = {"severity", false},
    [COL_MESSAGE] = {"message", false},
};

struct reader {
    kpi_rules *rules;
    kpi_dataset *ds;
    int col[N_COLUMNS];
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* s, or its first bytes and "..." when it is long: a cell in a message. */
static const char *clip_cell(const char *s, char buf[64])
{
    size_t n = strlen(s);
    if (n < 60)
        return s;
    n = 56;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* not inside a UTF-8 sequence */
    memcpy(buf, s, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

static char *cell(const struct kpi_csv_row *row, int col)
{
    static char empty[1];
    return col < 0 ? empty : trim(row->fields[col]);
}

/* The header: each column by name, the required ones present; other
 * columns are ignored (notes, owners). */
static int on_header(struct reader *R, const struct kpi_csv_row *row, struct kpi_error *err)
{
    for (size_t c = 0; c < N_COLUMNS; c++) {
        R->col[c] = -1;
        for (size_t f = 0; f < row->nfields; f++)
            if (!strcmp(trim(row->fields[f]), columns[c].name))
                R->col[c] = (int)f;
        if (columns[c].required && R->col[c] < 0)
            return kpi_error_at(err, KPI_EINPUT, RULES, row->line, 0,
                                RULES ":%u: missing required column '%s'", row->line,
                                columns[c].name);
    }
    return 0;
}

static const char *keep(kpi_rules *rs, const char *s)
{
    return kpi_arena_strndup(&rs->arena, s, strlen(s));
}

static int on_row(void *ctx, const struct kpi_csv_row *row, struct kpi_error *err)
{
    struct reader *R = ctx;
    kpi_rules *rs = R->rules;
    char clip[64];
    unsigned first;

    if (row->index == 0)
        return on_header(R, row, err);
    const char *id = cell(row, R->col[COL_ID]), *kpi = cell(row, R->col[COL_KPI]);
    const char *check = cell(row, R->col[COL_CHECK]), *severity = cell(row, R->col[COL_SEVERITY]);
    const char *message = cell(row, R->col[COL_MESSAGE]);
    struct kpi_rule rule = {.line = row->line};

    if (!kpi_text_is_kpi_id(id))
        return kpi_error_at(err, KPI_EINPUT, RULES, row->line, 0,
                            RULES ":%u: rule id '%s' %s; use letters, digits, '.', '_' and '-'",
                            row->line, clip_cell(id, clip),
                            *id ? "has a character not allowed" : "is empty");
    if (kpi_strmap_get(&rs->ids, id, &first))
        return kpi_error_at(err, KPI_EINPUT, RULES, row->line, 0,
                            RULES ":%u: duplicate rule '%s' (first at line %u)", row->line, id,
                            rs->rules[first].line);
    if (!*check)
        return kpi_error_at(err, KPI_EINPUT, RULES, row->line, 0,
                            RULES ":%u: rule '%s' has an empty check", row->line, id);
    if (!*severity || !strcmp(severity, "warning"))
        rule.severity = KPI_RULE_WARNING;
    else if (!strcmp(severity, "error"))
        rule.severity = KPI_RULE_ERROR;
    else
        return kpi_error_at(err, KPI_EINPUT, RULES, row->line, 0,
                            RULES ":%u: severity '%s' of rule '%s' is not 'warning' or 'error'",
                            row->line, clip_cell(severity, clip), id);
    if (*kpi && !kpi_dataset_find(R->ds, kpi)) {
        char text[600];
        snprintf(text, sizeof text, RULES ":%u: rule '%s' is for unknown indicator '%s'; ignored",
                 row->line, id, clip_cell(kpi, clip));
        return kpi_dataset_add_warning(R->ds, text, false, err);
    }
    if (!(rule.id = keep(rs, id)) || !(rule.check = keep(rs, check)) ||
        (*kpi && !(rule.kpi = keep(rs, kpi))) || (*message && !(rule.message = keep(rs, message))))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        struct kpi_rule *nr = realloc(rs->rules, cap * sizeof *nr);
        if (!nr)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        rs->rules = nr;
        rs->cap = cap;
    }
    if (kpi_strmap_put(&rs->ids, rule.id, (unsigned)rs->n, NULL, NULL) < 0)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    rs->rules[rs->n++] = rule;
    return 0;
}

int kpi_rules_load(const char *dir, kpi_dataset *ds, enum kpi_encoding encoding,
                   struct kpi_provenance *prov, kpi_rules **out, struct kpi_error *err)
{
    kpi_rules *rs = calloc(1, sizeof *rs);
    size_t len = strlen(dir) + sizeof "/" RULES;
    char *path = malloc(len);
    kpi_sha256 *digest = NULL;
    struct stat st;
    int rc = 0;

    *out = NULL;
    if (!rs || !path) {
        free(rs);
        free(path);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    kpi_arena_init(&rs->arena);
    kpi_strmap_init(&rs->ids);
    snprintf(path, len, "%s/" RULES, dir);
    /* An absent file is no rules; anything else there is read, and the
     * reader refuses what is not a regular file (input_file.h). */
    if (lstat(path, &st) != 0 && errno == ENOENT)
        goto out;
    struct reader R = {.rules = rs, .ds = ds};
    uint64_t rows = 0;
    char hex[KPI_SHA256_HEX];
    if (prov && !(digest = kpi_sha256_new())) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    rc = kpi_csv_read_digest(path, RULES, encoding, on_row, &R, digest, &rows, err);
    if (!rc && prov) {
        kpi_sha256_final(digest, hex);
        rc = kpi_provenance_add_file(prov, KPI_PROVENANCE_INPUT, RULES, hex, rows, err);
    }
out:
    kpi_sha256_free(digest);
    free(path);
    if (rc) {
        kpi_rules_free(rs);
        return rc;
    }
    *out = rs;
    return 0;
}

void kpi_rules_free(kpi_rules *rs)
{
    if (!rs)
        return;
    kpi_arena_release(&rs->arena);
    kpi_strmap_release(&rs->ids);
    free(rs->rules);
    free(rs);
}

const struct kpi_rule *kpi_rules_list(const kpi_rules *rs, size_t *n)
{
    *n = rs ? rs->n : 0;
    return rs ? rs->rules : NULL;
}

bool kpi_rule_applies(const struct kpi_rule *rule, const struct kpi_indicator *k)
{
    return !rule->kpi || !strcmp(rule->kpi, k->id);
}

static bool is_word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* "a=1, b=2": k's inputs named by words of check, in the order named. */
static void named_values(const char *check, const struct kpi_indicator *k, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = check; *p && used < size;) {
        if (!is_word_char(*p)) {
            p++;
            continue;
        }
        const char *start = p;
        while (is_word_char(*p))
            p++;
        size_t len = (size_t)(p - start);
        if ((start > check && start[-1] == '.') || (*start >= '0' && *start <= '9'))
            continue;
        bool earlier = false; /* named before: listed once */
        for (const char *q = check; q + len <= start && !earlier; q++)
            earlier = !strncmp(q, start, len) && (q == check || !is_word_char(q[-1])) &&
                      !is_word_char(q[len]) && (q == check || q[-1] != '.');
        for (unsigned i = 0; i < k->n_inputs && !earlier; i++) {
            if (strncmp(k->inputs[i].name, start, len) || k->inputs[i].name[len])
                continue;
            char num[KPI_NUMBER_BUF];
            int n = snprintf(out + used, size - used, "%s%s=%s", used ? ", " : "",
                             k->inputs[i].name, kpi_text_format_number(k->inputs[i].value, num));
            used += n > 0 ? (size_t)n : 0;
            break;
        }
    }
}

void kpi_rule_describe(const struct kpi_rule *rule, const struct kpi_indicator *k, const char *why,
                       bool as_warning, char *out, size_t size)
{
    char values[256], where[160];

    named_values(rule->check, k, values, sizeof values);
    if (as_warning)
        snprintf(where, sizeof where, RULES ":%u: rule %s failed for %s", rule->line, rule->id,
                 k->id);
    else
        snprintf(where, sizeof where, "rule %s failed", rule->id);
    snprintf(out, size, "%s: %s%s%s%s%s%s", where, rule->check, *values ? " (" : "", values,
             *values ? ")" : "", why ? ": " : "", why ? why : "");
    if (rule->message) {
        size_t n = strlen(out);
        if (n < size)
            snprintf(out + n, size - n, ": %s", rule->message);
    }
    kpi_text_utf8_repair(out);
}
