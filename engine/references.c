#include "references.h"

#include <stdbool.h>
#include <string.h>

static bool is_word(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* At '[': the level of a long bracket "[==[" (0 for "[["), or -1. */
static int long_bracket(const char *p)
{
    int level = 0;
    if (*p++ != '[')
        return -1;
    while (*p == '=')
        p++, level++;
    return *p == '[' ? level : -1;
}

/* Past the long bracket of `level` opening at p; at the end of the text
 * when it is not closed (Lua will say so when it compiles). */
static const char *skip_long(const char *p, int level)
{
    p += level + 2;
    for (; *p; p++) {
        if (*p != ']')
            continue;
        const char *q = p + 1;
        int n = 0;
        while (*q == '=')
            q++, n++;
        if (n == level && *q == ']')
            return q + 1;
    }
    return p;
}

/* Past a short string opening at p (its quote), escapes included. */
static const char *skip_string(const char *p)
{
    char quote = *p++;
    for (; *p && *p != quote && *p != '\n'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p == quote ? p + 1 : p;
}

/* Past a comment starting at p ("--"). */
static const char *skip_comment(const char *p)
{
    int level = long_bracket(p + 2);
    if (level >= 0)
        return skip_long(p + 2, level);
    p += 2;
    while (*p && *p != '\n')
        p++;
    return p;
}

static const char *skip_blank(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
            p++;
        if (p[0] == '-' && p[1] == '-')
            p = skip_comment(p);
        else
            return p;
    }
}

/* A plain quoted literal at p: its text in *id, *len, and p past it; NULL
 * when p holds none (or one with an escape or a line break in it). */
static const char *plain_literal(const char *p, const char **id, size_t *len)
{
    char quote = *p;
    if (quote != '"' && quote != '\'')
        return NULL;
    const char *start = p + 1, *end = start;
    while (*end && *end != quote && *end != '\\' && *end != '\n' && *end != '\r')
        end++;
    if (*end != quote)
        return NULL;
    *id = start;
    *len = (size_t)(end - start);
    return end + 1;
}

/* The call after the name, at p: sets *id, *len and returns the text after
 * it, or NULL when it is not a call with one plain literal. */
static const char *call_of(const char *p, const char **id, size_t *len)
{
    p = skip_blank(p);
    if (*p != '(')
        return plain_literal(p, id, len);
    p = plain_literal(skip_blank(p + 1), id, len);
    if (!p)
        return NULL;
    p = skip_blank(p);
    return *p == ')' ? p + 1 : NULL;
}

int kpi_refs_scan(const char *text, struct kpi_refs_scan *found,
                  int (*each)(void *ctx, const char *id, size_t len), void *ctx)
{
    static const char name[] = KPI_REF_FUNCTION;
    const char *p = text;
    char prev = 0, prev2 = 0; /* the last two tokens' last characters, for `t.name` */
    int rc;

    found->uses = found->not_literal = 0;
    while (*p) {
        int level;
        char token = '"';
        if (p[0] == '-' && p[1] == '-') {
            p = skip_comment(p);
            continue;
        } else if (*p == '"' || *p == '\'') {
            p = skip_string(p);
        } else if ((level = long_bracket(p)) >= 0) {
            p = skip_long(p, level);
        } else if (is_word(*p)) {
            const char *start = p;
            bool field = prev == ':' || (prev == '.' && prev2 != '.');
            while (is_word(*p))
                p++;
            token = 'a';
            /* t.kpi_value and t:kpi_value are fields, not the function;
             * "x" .. kpi_value(...) is the function. */
            if (!field && (size_t)(p - start) == sizeof name - 1 &&
                !memcmp(start, name, sizeof name - 1)) {
                const char *id, *after;
                size_t len;
                found->uses++;
                if (!(after = call_of(p, &id, &len))) {
                    found->not_literal++;
                } else {
                    if (each && (rc = each(ctx, id, len)))
                        return rc;
                    p = after;
                    token = ')';
                }
            }
        } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
                   *p == '\v') {
            p++;
            continue;
        } else {
            token = *p++;
        }
        prev2 = prev;
        prev = token;
    }
    return 0;
}
