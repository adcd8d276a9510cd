#include "lua_names.h"

#include <stdlib.h>
#include <string.h>

enum tok_type { TOK_NAME, TOK_KEYWORD, TOK_STRING, TOK_NUMBER, TOK_OP, TOK_END };

struct token {
    size_t offset, len;     /* a string's token covers its quotes */
    size_t body, body_len;  /* a string's text without its quotes */
    unsigned char type;
    char op[4];             /* an operator's text */
};

static bool is_alpha(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_keyword(const char *s, size_t n)
{
    static const char *const words[] = {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && !memcmp(words[i], s, n))
            return true;
    return false;
}

/* The level of a long bracket opening at s ("[[", "[==["), or -1. */
static long long_bracket(const char *s)
{
    long level = 0;
    if (*s != '[')
        return -1;
    for (s++; *s == '='; s++)
        level++;
    return *s == '[' ? level : -1;
}

/* The end of a long bracket body of `level` starting at s (past the
 * closing bracket), or the end of the text. */
static const char *long_end(const char *s, long level, const char **body_end)
{
    for (; *s; s++) {
        if (*s != ']')
            continue;
        const char *p = s + 1;
        long l = 0;
        while (*p == '=')
            p++, l++;
        if (l == level && *p == ']') {
            *body_end = s;
            return p + 1;
        }
    }
    *body_end = s;
    return s;
}

/* Splits text into tokens, skipping blanks and comments. Returns the
 * count (the last is TOK_END), or 0 when out of memory. */
static size_t tokenize(const char *text, struct token **out)
{
    size_t n = 0, cap = 64;
    struct token *t = malloc(cap * sizeof *t);
    const char *p = text;

    for (;;) {
        if (!t)
            return 0;
        if (n + 1 >= cap) {
            struct token *nt = realloc(t, (cap *= 2) * sizeof *t);
            if (!nt) {
                free(t);
                return 0;
            }
            t = nt;
        }
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
            p++;
        struct token *k = &t[n];
        memset(k, 0, sizeof *k);
        k->offset = (size_t)(p - text);
        if (!*p) {
            k->type = TOK_END;
            *out = t;
            return n + 1;
        }
        if (p[0] == '-' && p[1] == '-') {
            long level = long_bracket(p + 2);
            const char *end;
            if (level >= 0)
                p = long_end(p + 2 + level + 2, level, &end);
            else
                while (*p && *p != '\n')
                    p++;
            continue;
        }
        const char *start = p;
        if (is_alpha(*p)) {
            while (is_alpha(*p) || is_digit(*p))
                p++;
            k->type = is_keyword(start, (size_t)(p - start)) ? TOK_KEYWORD : TOK_NAME;
        } else if (is_digit(*p) || (*p == '.' && is_digit(p[1]))) {
            while (is_alpha(*p) || is_digit(*p) || *p == '.' ||
                   ((*p == '+' || *p == '-') && strchr("eEpP", p[-1])))
                p++;
            k->type = TOK_NUMBER;
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            k->body = (size_t)(p - text);
            while (*p && *p != q && *p != '\n') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            k->body_len = (size_t)(p - text) - k->body;
            if (*p == q)
                p++;
            k->type = TOK_STRING;
        } else if (long_bracket(p) >= 0) {
            long level = long_bracket(p);
            const char *body_end;
            k->body = (size_t)(p + level + 2 - text);
            p = long_end(p + level + 2, level, &body_end);
            k->body_len = (size_t)(body_end - text) - k->body;
            k->type = TOK_STRING;
        } else {
            static const char *const ops[] = {"...", "..", "==", "~=", "<=", ">=", "//", "::",
                                              "<<", ">>"};
            size_t len = 1;
            for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
                if (!strncmp(p, ops[i], strlen(ops[i]))) {
                    len = strlen(ops[i]);
                    break;
                }
            memcpy(k->op, p, len);
            p += len;
            k->type = TOK_OP;
        }
        k->len = (size_t)(p - start);
        n++;
    }
}

static bool is_op(const struct token *k, const char *op)
{
    return k->type == TOK_OP && !strcmp(k->op, op);
}

static bool is_kw(const char *text, const struct token *k, const char *word)
{
    return k->type == TOK_KEYWORD && k->len == strlen(word) && !memcmp(text + k->offset, word, k->len);
}

struct span {
    const char *s;
    size_t len;
};

static int compare_spans(const void *x, const void *y)
{
    const struct span *a = x, *b = y;
    int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Marks, in decl[i], the name tokens that declare a name: after `local`
 * (and `local function`), a function's name and parameters, loop
 * variables, and a name assigned with '=' (which also covers table keys). */
static void mark_declarations(const char *text, const struct token *t, size_t n, bool *decl)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].type == TOK_NAME && i + 1 < n && is_op(&t[i + 1], "=") &&
            !(i > 0 && (is_op(&t[i - 1], ".") || is_op(&t[i - 1], ":"))))
            decl[i] = true;
        if (is_kw(text, &t[i], "local") || is_kw(text, &t[i], "for")) {
            size_t j = i + 1;
            if (j < n && is_kw(text, &t[j], "function"))
                j++;
            for (; j < n && t[j].type == TOK_NAME; j++) {
                decl[j] = true;
                if (j + 3 < n && is_op(&t[j + 1], "<") && t[j + 2].type == TOK_NAME &&
                    is_op(&t[j + 3], ">")) {
                    decl[j + 2] = true; /* an attribute, <const> or <close>: no name */
                    j += 3;
                }
                if (j + 1 < n && is_op(&t[j + 1], ","))
                    j++;
                else
                    break;
            }
        }
        if (is_kw(text, &t[i], "function")) {
            size_t j = i + 1;
            if (j < n && t[j].type == TOK_NAME) {
                /* function f(...) assigns f; function a.b:c(...) reads a */
                if (!(j + 1 < n && (is_op(&t[j + 1], ".") || is_op(&t[j + 1], ":"))))
                    decl[j] = true;
                while (j < n && !is_op(&t[j], "("))
                    j++;
            }
            if (j < n && is_op(&t[j], "("))
                for (j++; j < n && !is_op(&t[j], ")"); j++)
                    if (t[j].type == TOK_NAME)
                        decl[j] = true;
        }
    }
}

int kpi_lua_names(const char *text, void (*fn)(void *ctx, const struct kpi_lua_name *use),
                  void *ctx)
{
    struct token *t = NULL;
    size_t n = tokenize(text, &t);
    bool *decl = n ? calloc(n, sizeof *decl) : NULL;
    struct span *declared = n ? malloc(n * sizeof *declared) : NULL;
    size_t n_declared = 0;
    char *name = malloc(strlen(text) + 1);
    int rc = 0;

    if (!n || !decl || !declared || !name) {
        rc = -1;
        goto out;
    }
    mark_declarations(text, t, n, decl);
    /* Sorted, so that a text of many names is still read in n log n. */
    for (size_t i = 0; i < n; i++)
        if (decl[i])
            declared[n_declared++] = (struct span){text + t[i].offset, t[i].len};
    qsort(declared, n_declared, sizeof *declared, compare_spans);
    for (size_t i = 0; i < n; i++) {
        if (t[i].type != TOK_NAME || decl[i])
            continue;
        if (i > 0 && (is_op(&t[i - 1], ".") || is_op(&t[i - 1], ":") || is_op(&t[i - 1], "::") ||
                      is_kw(text, &t[i - 1], "goto")))
            continue;
        struct span key = {text + t[i].offset, t[i].len};
        if (n_declared && bsearch(&key, declared, n_declared, sizeof *declared, compare_spans))
            continue;
        struct kpi_lua_name use = {.name = name, .offset = t[i].offset, .len = t[i].len};
        const struct token *next = &t[i + 1];
        use.call = is_op(next, "(") || is_op(next, "{") || next->type == TOK_STRING;
        if (next->type == TOK_STRING) {
            use.literal_arg = true;
            use.arg_offset = next->body, use.arg_len = next->body_len;
        } else if (is_op(next, "(") && i + 3 < n && t[i + 2].type == TOK_STRING &&
                   is_op(&t[i + 3], ")")) {
            use.literal_arg = true;
            use.arg_offset = t[i + 2].body, use.arg_len = t[i + 2].body_len;
        }
        memcpy(name, text + t[i].offset, t[i].len);
        name[t[i].len] = '\0';
        fn(ctx, &use);
    }
out:
    free(t);
    free(decl);
    free(declared);
    free(name);
    return rc;
}

struct called {
    const char *name;
    bool found;
};

static void note_called(void *ctx, const struct kpi_lua_name *use)
{
    struct called *c = ctx;
    if (use->call && !strcmp(use->name, c->name))
        c->found = true;
}

bool kpi_lua_name_is_called(const char *text, const char *name)
{
    struct called c = {name, false};
    kpi_lua_names(text, note_called, &c);
    return c.found;
}
