#include "formula.h"

#include <assert.h>
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "input_file.h"
#include "missing.h"
#include "kpieval/limits.h"
#include "lua_names.h"
#include "suggest.h"
#include "references.h"
#include "text.h"

enum mode { MODE_FORMULA, MODE_SCORING, MODE_RULE };

/* A plugin file read once, so the sandbox can be rebuilt from memory
 * (workers cannot open files). */
struct plugin_source {
    char *name;   /* what formulas call it */
    char *path;   /* for messages */
    char *text;   /* plugin_prefix + the file; NULL when it was refused */
    size_t len;
    char *broken;         /* why it failed to load, "PATH[:LINE]: ...", or NULL */
    unsigned broken_line; /* the line of that, or 0 */
};

struct kpi_formulas {
    kpi_sandbox *sb;
    struct kpi_sandbox_limits limits;
    struct plugin_source *sources; /* in shadowing order */
    size_t n_sources, cap_sources;
    bool tripped;           /* a limit was hit since the state was built */
    const kpi_dataset *ds;
    int plugins_ref;        /* name -> plugin chunk */
    int compiled_ref;       /* expression id + 1 -> function, or error string */
    size_t n_compiled;      /* entries in it; emptied at KPI_COMPILE_CACHE_MAX */
    bool compile_oom;       /* the last compile ran out of memory (not cached) */
    int formula_mt_ref;     /* metatable of formula environments */
    int plugin_mt_ref;      /* metatable of plugin environments */

    const struct kpi_result *rows; /* of every KPI, for kpi_value(); may be NULL */

    const struct kpi_indicator *current;
    enum mode mode;
    char missing[64];       /* first name found nowhere, or "" */
    char unknown[64];       /* first name that cannot be an input, or "" */
    bool unknown_call;      /* ... and it is called as a function */
    char suggestion[64];    /* a name near missing or unknown, or "" */

    const kpi_rules *rules; /* validation rules, or NULL */
    int rules_ref;          /* rule index + 1 -> compiled check */
    char note[KPI_MESSAGE_MAX]; /* the last KPI's rule warnings, or "" */
};

/* ---- messages ----------------------------------------------------------- */

/* Copies a Lua error message for KPI k: the "formula:" chunk name becomes
 * the KPI id ("K3:1: ...", or "K3: scoring:1: ..." for a scoring
 * expression), and the text is bounded. */
static void convert_message(const char *lua_msg, const struct kpi_indicator *k, const char *what,
                            char *out, size_t size)
{
    if (!lua_msg)
        lua_msg = "(error object is not a string)";
    if (!strncmp(lua_msg, "formula:", 8) && !strcmp(what, "formula"))
        snprintf(out, size, "%s:%s", k->id, lua_msg + 8);
    else if (!strncmp(lua_msg, "formula:", 8))
        snprintf(out, size, "%s: %s:%s", k->id, what, lua_msg + 8);
    else
        snprintf(out, size, "%s: %s", k->id, lua_msg);
}

/* A formula that does not compile: Lua's "formula:LINE: ..." becomes
 * "indicators.csv:ROW: 'K': ..." with ROW the file's line of that formula
 * line (the row's first line plus the lines before it in the cell), when
 * the dataset came from files; "K:LINE: ..." as for other messages when it
 * was built in memory. */
static void compile_message(const char *lua_msg, const kpi_dataset *ds,
                            const struct kpi_indicator *k, const char *what, char *out,
                            size_t size)
{
    unsigned long fline = 0;
    const char *rest = NULL;

    if (lua_msg && !strncmp(lua_msg, "formula:", 8)) {
        char *end;
        fline = strtoul(lua_msg + 8, &end, 10);
        if (*end == ':')
            rest = end + 1;
    }
    if (!kpi_dataset_dir(ds) || !rest || !fline) {
        convert_message(lua_msg, k, what, out, size);
        return;
    }
    while (*rest == ' ')
        rest++;
    snprintf(out, size, "indicators.csv:%lu: '%s': the %s does not compile: %s",
             (unsigned long)k->line + fline - 1, k->id,
             strcmp(what, "scoring") ? what : "scoring expression", rest);
}

/* A short description of the value at idx for "returned ..." messages. */
static void describe_value(lua_State *L, int idx, char *out, size_t size)
{
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING) {
        char clip[48];
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        snprintf(clip, sizeof clip, "%.40s%s", s, n > 40 ? "..." : "");
        snprintf(out, size, "a string ('%s')", clip);
    } else if (t == LUA_TBOOLEAN) {
        snprintf(out, size, "a boolean (%s)", lua_toboolean(L, idx) ? "true" : "false");
    } else if (t == LUA_TNONE || t == LUA_TNIL) {
        snprintf(out, size, "nil");
    } else {
        snprintf(out, size, "a %s", lua_typename(L, t));
    }
}

/* ---- name resolution ---------------------------------------------------- */

static void push_kpi_table(lua_State *L, const kpi_dataset *ds, const struct kpi_indicator *k)
{
    size_t n_extra;
    const char *const *extra = kpi_dataset_extra_columns(ds, &n_extra);

    lua_createtable(L, 0, 8 + (int)n_extra);
    for (size_t i = 0; i < n_extra; i++) {
        lua_pushstring(L, k->extra[i]);
        lua_setfield(L, -2, extra[i]);
    }
    lua_pushstring(L, k->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, k->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, k->department);
    lua_setfield(L, -2, "department");
    lua_pushstring(L, k->unit);
    lua_setfield(L, -2, "unit");
    lua_pushstring(L, k->direction == KPI_DIRECTION_DECREASE ? "decrease" : "increase");
    lua_setfield(L, -2, "direction");
    if (k->has_baseline) {
        lua_pushnumber(L, k->baseline);
        lua_setfield(L, -2, "baseline");
    }
    lua_pushnumber(L, k->target);
    lua_setfield(L, -2, "target");
    lua_pushnumber(L, k->weight);
    lua_setfield(L, -2, "weight");
}

/* A plugin chunk is compiled as `local _ENV = ...; <file>` (on the file's
 * first line, so line numbers hold): each call makes a new _ENV local, so
 * every instance has its own globals and upvalues, even two instances of
 * one plugin alive at once. */
static const char plugin_prefix[] = "local _ENV = ...; ";

/* Pushes a fresh plugin environment. [-0, +1] */
static void push_plugin_env(lua_State *L, kpi_formulas *fe)
{
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->plugin_mt_ref);
    lua_setmetatable(L, -2);
}

/* Makes a fresh instance of the plugin chunk at the top, so nothing it
 * keeps outlives this KPI. [-1, +1] */
static void instantiate_plugin(lua_State *L, kpi_formulas *fe, const char *name)
{
    push_plugin_env(L, fe);                            /* [chunk, env] */
    lua_call(L, 1, 1);                                 /* [fn] */
    if (!lua_isfunction(L, -1))
        luaL_error(L, "plugin '%s' did not return a function", name);
}

/* The row of dependency `id` of the KPI being evaluated, or NULL when it
 * has none yet (rows not given, a KPI of another shard, or one not
 * evaluated before this one: the plan prevents both). */
static const struct kpi_result *dependency_row(const kpi_formulas *fe, const char *id)
{
    size_t n;
    const struct kpi_indicator *base = kpi_dataset_indicators(fe->ds, &n);
    const struct kpi_indicator *d = kpi_dataset_find(fe->ds, id);
    if (!d || !fe->rows)
        return NULL;
    const struct kpi_result *r = &fe->rows[d - base];
    /* Rows start zeroed (status ok, no actual); an evaluated ok row always
     * has its actual. */
    return r->status == KPI_STATUS_OK && !r->has_actual ? NULL : r;
}

/* kpi_value("ID"): the actual of KPI ID, one the formula names as a quoted
 * literal (kpi_indicator.deps), which the plan evaluated before this one
 * and found ok (kpi_formulas_eval_kpi checks that first). Anything else
 * is an error, never a guess. */
static int kpi_value_function(lua_State *L)
{
    kpi_formulas *fe = lua_touserdata(L, lua_upvalueindex(1));
    const char *id = luaL_checkstring(L, 1);
    const struct kpi_indicator *k = fe->current;
    unsigned d = 0;

    while (k && d < k->n_deps && strcmp(k->deps[d], id))
        d++;
    if (!k || d == k->n_deps)
        return luaL_error(L,
                          KPI_REF_FUNCTION ": '%s' is not among the KPIs this formula "
                                           "names as a quoted literal",
                          id);
    const struct kpi_result *r = dependency_row(fe, id);
    if (!r || r->status != KPI_STATUS_OK)
        return luaL_error(L, KPI_REF_FUNCTION ": no value of '%s' here", id);
    lua_pushnumber(L, r->actual);
    return 1;
}

/* Standard Lua names left out of the sandbox on purpose: using one is an
 * error that says so, not a missing input. */
static const char *const forbidden_names[] = {
    "_G",    "collectgarbage", "coroutine",  "debug",   "dofile", "getfenv", "io",
    "load",  "loadfile",       "loadstring", "module",  "next",   "os",      "package",
    "print", "rawset",         "require",    "setfenv", "warn",   NULL,
};

static bool is_forbidden(const char *name)
{
    for (const char *const *f = forbidden_names; *f; f++)
        if (!strcmp(name, *f))
            return true;
    return false;
}

/* Offers the names of the library table at the top of the stack. */
static void offer_library(lua_State *L, struct kpi_suggest *s)
{
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            kpi_suggest_offer(s, lua_tostring(L, -1), 0);
    }
}

/* Sets fe->suggestion to the name nearest to key that a formula of the
 * current KPI could use: its inputs (data and declared), the plugins, the
 * library and kpi; or to "" when none is near. For a scoring expression,
 * what it sees instead of the inputs. Called only on the way to an error. */
static void suggest_name(lua_State *L, kpi_formulas *fe, const char *key, bool scoring)
{
    const struct kpi_indicator *k = fe->current;
    static const char *const scoring_names[] = {"actual", "target", "baseline", "kpi"};
    struct kpi_suggest s;

    kpi_suggest_init(&s, key, strlen(key), false);
    if (scoring) {
        for (size_t i = 0; i < sizeof scoring_names / sizeof scoring_names[0]; i++)
            kpi_suggest_offer(&s, scoring_names[i], 0);
    }
    /* An input the formula reads itself is no misspelling of another it
     * reads (events_q4 missing beside events_q1 is a gap in the data). */
    for (unsigned i = 0; !scoring && k && i < k->n_inputs; i++)
        if (kpi_suggest_near(&s, k->inputs[i].name) &&
            !kpi_text_has_word(k->formula, k->inputs[i].name))
            kpi_suggest_offer(&s, k->inputs[i].name, 0);
    for (const char *p = !scoring && k ? k->declared : NULL; p && *p;) {
        char name[KPI_SUGGEST_NAME_MAX + 1];
        size_t n = strcspn(p, ";");
        if (n < sizeof name) {
            memcpy(name, p, n);
            name[n] = '\0';
            if (kpi_suggest_near(&s, name) && !kpi_text_has_word(k->formula, name))
                kpi_suggest_offer_list(&s, name, ";");
        }
        p += n + (p[n] == ';');
    }
    for (size_t i = 0; i < fe->n_sources; i++)
        kpi_suggest_offer(&s, fe->sources[i].name, 0);
    if (!scoring)
        kpi_suggest_offer(&s, "kpi", 0);
    kpi_sandbox_push_library(fe->sb, L);
    offer_library(L, &s);
    lua_pop(L, 1);
    const char *pick = kpi_suggest_pick(&s);
    snprintf(fe->suggestion, sizeof fe->suggestion, "%s", pick ? pick : "");
}

/* A name a formula reads that is no input of this period, no plugin and
 * not in the library. When the KPI declares its inputs (the `inputs`
 * column), a declared name is `missing` (its data did not arrive) and any
 * other is an error; without that column a called name is an error (an
 * input is a number, never a function) and any other is `missing`. Either
 * way a near name is suggested. */
static int name_not_found(lua_State *L, kpi_formulas *fe, const char *key)
{
    const struct kpi_indicator *k = fe->current;
    bool unknown, call = false;

    if (k && k->declared)
        unknown = !kpi_indicator_declares(k, key);
    else
        unknown = call = k && kpi_lua_name_is_called(k->formula, key);
    if (!fe->missing[0] && !fe->unknown[0]) {
        snprintf(unknown ? fe->unknown : fe->missing, sizeof fe->missing, "%s", key);
        fe->unknown_call = call;
        suggest_name(L, fe, key, false);
    }
    return luaL_error(L, unknown ? "unknown name '%s'" : "input '%s' missing", key);
}

/* __index of the environments: upvalue 1 is the kpi_formulas, upvalue 2
 * true for formula (and scoring) environments, false for plugins'. */
static int resolve_name(lua_State *L)
{
    kpi_formulas *fe = lua_touserdata(L, lua_upvalueindex(1));
    bool formula_env = lua_toboolean(L, lua_upvalueindex(2));
    const char *key;

    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    key = lua_tostring(L, 2);

    if (formula_env && fe->current && !strcmp(key, "kpi")) {
        push_kpi_table(L, fe->ds, fe->current);        /* [env, key, kpi] */
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -2);
        lua_rawset(L, 1);                              /* env.kpi = kpi */
        return 1;
    }
    if (!strcmp(key, KPI_REF_FUNCTION)) {
        /* Only a formula reads other KPIs: the plan knows what it reads
         * from its text alone (docs/formats.md). */
        if (!formula_env)
            return luaL_error(L, "'" KPI_REF_FUNCTION "' is not available to plugins; pass "
                                 "the value in: f(" KPI_REF_FUNCTION "(\"ID\"))");
        if (fe->mode == MODE_SCORING)
            return luaL_error(L, "'" KPI_REF_FUNCTION "' is not available to scoring "
                                 "expressions; read the other KPI in the formula");
        lua_pushlightuserdata(L, fe);               /* [env, key, fe] */
        lua_pushcclosure(L, kpi_value_function, 1); /* [env, key, fn] */
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -2);
        lua_rawset(L, 1); /* env.kpi_value = fn */
        return 1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->plugins_ref);
    int kind = lua_getfield(L, -1, key);               /* [env, key, plugins, chunk|msg] */
    if (kind == LUA_TSTRING) /* a broken plugin: it costs the KPIs that call it */
        return luaL_error(L, "plugin '%s' failed to load: %s", key, lua_tostring(L, -1));
    if (kind == LUA_TFUNCTION) {                       /* [env, key, plugins, chunk] */
        instantiate_plugin(L, fe, key);                /* [env, key, plugins, fn] */
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -2);
        lua_rawset(L, 1);                              /* env[key] = fn */
        return 1;
    }
    lua_pop(L, 2);
    kpi_sandbox_push_library(fe->sb, L);
    if (lua_getfield(L, -1, key) != LUA_TNIL)          /* [env, key, lib, value] */
        return 1;
    if (is_forbidden(key))
        return luaL_error(L, "'%s' is not available to formulas (see docs/security.md)", key);
    if (!formula_env)
        return 0; /* plugins see nil, as ordinary Lua code would */
    if (fe->mode != MODE_SCORING && fe->current && kpi_missing_filled(fe->current, key)) {
        lua_pushnumber(L, 0); /* if_missing zero: after plugins and the library */
        return 1;
    }
    if (fe->mode == MODE_SCORING) {
        const struct kpi_indicator *k = fe->current;
        if (!strcmp(key, "baseline"))
            return luaL_error(L, "the scoring expression uses baseline, and '%s' has none "
                                 "(its baseline cell is empty or '-')",
                              k ? k->id : "?");
        suggest_name(L, fe, key, true);
        return luaL_error(L, "unknown name '%s' (a scoring expression sees actual, target, "
                             "baseline, kpi, the plugins and the library)%s%s%s",
                          key, fe->suggestion[0] ? "; did you mean '" : "", fe->suggestion,
                          fe->suggestion[0] ? "'?" : "");
    }
    if (fe->mode == MODE_RULE) { /* a rule whose names the KPI lacks is skipped */
        if (!fe->missing[0])
            snprintf(fe->missing, sizeof fe->missing, "%s", key);
        return luaL_error(L, "input '%s' missing", key);
    }
    return name_not_found(L, fe, key);
}

/* input(name [, default]): the KPI's input, else default, else missing. */
static int input_function(lua_State *L)
{
    kpi_formulas *fe = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);
    const struct kpi_indicator *k = fe->current;

    for (unsigned i = 0; k && i < k->n_inputs; i++) {
        if (!strcmp(k->inputs[i].name, name)) {
            lua_pushnumber(L, k->inputs[i].value);
            return 1;
        }
    }
    if (!lua_isnoneornil(L, 2)) {
        lua_settop(L, 2);
        return 1;
    }
    if (fe->mode == MODE_FORMULA)
        return name_not_found(L, fe, name);
    if (fe->mode == MODE_RULE && !fe->missing[0])
        snprintf(fe->missing, sizeof fe->missing, "%s", name);
    return luaL_error(L, "input '%s' missing", name);
}

static void push_env_metatable(lua_State *L, kpi_formulas *fe, bool formula_env)
{
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, fe);
    lua_pushboolean(L, formula_env);
    lua_pushcclosure(L, resolve_name, 2);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
}

/* ---- plugins ------------------------------------------------------------ */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a plugin file into fe->sources; compiling waits for build_state.
 * Only a regular file, not a link, and at most KPI_PLUGIN_FILE_MAX bytes
 * (kpi_input_open): a FIFO would block the run, /dev/zero fill memory, and
 * a link's target would be quoted in the Lua error messages. */
static int read_plugin_file(kpi_formulas *fe, const char *path, const char *name,
                            struct kpi_error *err)
{
    struct plugin_source *src;
    struct stat st;
    char *text = NULL;
    size_t len = 0, cap;
    int rc = 0;
    int fd = kpi_input_open(path, path, KPI_EPLUGIN, &st, err);

    if (fd < 0) {
        if (err)
            err->code = KPI_EPLUGIN;
        return KPI_EPLUGIN;
    }
    if (st.st_size > KPI_PLUGIN_FILE_MAX) {
        rc = kpi_error_at(err, KPI_EPLUGIN, path, 0, 0,
                          "%s: %lld bytes, more than the limit of %d for a plugin file", path,
                          (long long)st.st_size, KPI_PLUGIN_FILE_MAX);
        goto out;
    }
    /* One byte more than fstat said, to see a file that grew meanwhile;
     * growing stops one byte past the limit. */
    cap = (size_t)st.st_size + 1;
    if (!(text = malloc(cap + sizeof plugin_prefix))) {
        rc = kpi_error_set(err, KPI_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap > KPI_PLUGIN_FILE_MAX)
                break;
            cap = cap * 2 < KPI_PLUGIN_FILE_MAX + 1 ? cap * 2 : KPI_PLUGIN_FILE_MAX + 1;
            char *nt = realloc(text, cap + sizeof plugin_prefix);
            if (!nt) {
                rc = kpi_error_set(err, KPI_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            text = nt;
        }
        ssize_t got = read(fd, text + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = kpi_error_at(err, KPI_EPLUGIN, path, 0, 0, "%s: read error: %s", path,
                              strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (len > KPI_PLUGIN_FILE_MAX) {
        rc = kpi_error_at(err, KPI_EPLUGIN, path, 0, 0,
                          "%s: more than %d bytes, the limit for a plugin file", path,
                          KPI_PLUGIN_FILE_MAX);
        goto out;
    }
    if (len > 0 && text[0] == LUA_SIGNATURE[0]) {
        rc = kpi_error_at(err, KPI_EPLUGIN, path, 0, 0,
                          "%s: precompiled (binary) Lua chunks are not accepted; "
                          "give the plugin as Lua source text",
                          path);
        goto out;
    }
    memmove(text + sizeof plugin_prefix - 1, text, len);
    memcpy(text, plugin_prefix, sizeof plugin_prefix - 1);
    len += sizeof plugin_prefix - 1;
    if (fe->n_sources == fe->cap_sources) {
        size_t ncap = fe->cap_sources ? fe->cap_sources * 2 : 16;
        struct plugin_source *ns = realloc(fe->sources, ncap * sizeof *ns);
        if (!ns) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        fe->sources = ns;
        fe->cap_sources = ncap;
    }
    src = &fe->sources[fe->n_sources];
    src->name = strdup(name);
    src->path = strdup(path);
    src->text = text;
    src->len = len;
    src->broken = NULL;
    src->broken_line = 0;
    if (!src->name || !src->path) {
        free(src->name);
        free(src->path);
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    fe->n_sources++;
    text = NULL;
out:
    free(text);
    close(fd);
    return rc;
}

/* The line of a Lua message "CHUNK:LINE: ..." when CHUNK is how Lua shows
 * path (the whole path, or "..." and its end when it is long); else 0. */
static unsigned lua_message_line(const char *msg, const char *path)
{
    size_t path_len = strlen(path);

    for (const char *colon = msg ? strchr(msg, ':') : NULL; colon; colon = strchr(colon + 1, ':')) {
        const char *id = msg;
        size_t id_len = (size_t)(colon - msg);
        bool cut = id_len >= 3 && !strncmp(id, "...", 3);
        if (cut)
            id += 3, id_len -= 3;
        if (id_len > path_len || (!cut && id_len != path_len) ||
            strncmp(path + path_len - id_len, id, id_len) || colon[1] < '0' || colon[1] > '9')
            continue;
        unsigned long line = 0;
        const char *d = colon + 1;
        while (*d >= '0' && *d <= '9' && line < UINT_MAX / 10)
            line = line * 10 + (unsigned long)(*d++ - '0');
        if (*d == ':')
            return (unsigned)line;
    }
    return 0;
}

/* Records that src failed to load: message names the file first (Lua's
 * own "PATH:LINE: ..." is kept; a message without the file, such as the
 * parser's bare "C stack overflow", gets "PATH: " before its first line).
 * Registers it as broken in the current state, if any. Returns 0 or
 * KPI_ENOMEM. */
static int mark_broken(kpi_formulas *fe, struct plugin_source *src, unsigned line,
                       const char *message, struct kpi_error *err)
{
    char text[KPI_ERROR_MESSAGE_MAX];
    size_t path_len = strlen(src->path);

    if (!message)
        message = "error";
    if (!line)
        line = lua_message_line(message, src->path);
    char at_line[16];
    const char *rest = NULL;
    snprintf(at_line, sizeof at_line, ":%u:", line);
    if (line && !strncmp(message, "...", 3))
        rest = strstr(message, at_line); /* Lua cut the path: the whole one instead */
    if (rest)
        snprintf(text, sizeof text, "%s%s", src->path, rest);
    else if (line || !strncmp(message, src->path, path_len))
        snprintf(text, sizeof text, "%s", message);
    else
        snprintf(text, sizeof text, "%s: %.*s", src->path, (int)strcspn(message, "\n"), message);
    free(src->broken);
    if (!(src->broken = strdup(text)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    src->broken_line = line;
    if (fe->sb) {
        /* Its own guard (the caller's, if any, put back after): pushing the
         * message may run out of memory, which must not abort the run. */
        lua_State *L = kpi_sandbox_state(fe->sb);
        jmp_buf guard;
        jmp_buf *volatile outer = kpi_sandbox_guard(fe->sb, NULL);
        if (setjmp(guard)) {
            kpi_sandbox_guard(fe->sb, outer);
            fe->tripped = true;
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        }
        kpi_sandbox_guard(fe->sb, &guard);
        lua_rawgeti(L, LUA_REGISTRYINDEX, fe->plugins_ref);
        lua_pushstring(L, src->broken);
        lua_setfield(L, -2, src->name);                /* plugins[name] = message */
        lua_pop(L, 1);
        kpi_sandbox_guard(fe->sb, outer);
    }
    return 0;
}

/* Compiles a plugin and registers it (a later source of the same name
 * replaces an earlier one, broken or not: the analyst meant the later
 * one). A plugin that does not compile is registered as broken. Running
 * it is check_plugin's. Fails only out of memory. */
static int install_plugin(kpi_formulas *fe, struct plugin_source *src, struct kpi_error *err)
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    char chunkname[4200];

    if (src->broken)
        return mark_broken(fe, src, src->broken_line, src->broken, err);
    snprintf(chunkname, sizeof chunkname, "@%s", src->path);
    int rc = kpi_sandbox_load(fe->sb, src->text, src->len, chunkname);
    if (rc == LUA_ERRMEM) {
        lua_pop(L, 1);
        return kpi_error_set(err, KPI_ENOMEM, "%s: out of memory compiling", src->path);
    }
    if (rc != LUA_OK) {
        char msg[KPI_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
        lua_pop(L, 1);
        return mark_broken(fe, src, 0, msg, err);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->plugins_ref);
    lua_insert(L, -2);                                 /* [plugins, chunk] */
    lua_setfield(L, -2, src->name);                    /* plugins[name] = chunk */
    lua_pop(L, 1);
    return 0;
}

/* Runs one plugin's top level under the limits and checks that it returns
 * a function: 0, or KPI_EPLUGIN with err naming the file when it is
 * broken (then the caller marks it). */
static int check_plugin(kpi_formulas *fe, const struct plugin_source *src, struct kpi_error *err)
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    char chunkname[4200];
    enum kpi_sandbox_trip trip;

    if (src->broken)
        return kpi_error_at(err, KPI_EPLUGIN, src->path, src->broken_line, 0, "%s", src->broken);
    snprintf(chunkname, sizeof chunkname, "@%s", src->path);
    if (kpi_sandbox_load(fe->sb, src->text, src->len, chunkname) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        int rc = kpi_error_at(err, KPI_EPLUGIN, src->path, lua_message_line(msg, src->path), 0,
                              "%s", msg ? msg : "error");
        lua_pop(L, 1);
        return rc;
    }
    push_plugin_env(L, fe);                            /* [chunk, env] */
    if (kpi_sandbox_call(fe->sb, 1, 1, &trip) != LUA_OK) {
        const struct kpi_sandbox_limits *lim = kpi_sandbox_limits(fe->sb);
        char why[128];
        unsigned line = 0;
        if (trip == KPI_TRIP_INSTRUCTIONS)
            snprintf(why, sizeof why, "instruction limit of %llu exceeded",
                     (unsigned long long)lim->instructions);
        else if (trip == KPI_TRIP_MEMORY)
            snprintf(why, sizeof why, "memory limit of %zu bytes exceeded", lim->memory);
        else if (trip == KPI_TRIP_TIME)
            snprintf(why, sizeof why, "time limit of %g s exceeded", lim->seconds);
        else {
            const char *m = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error", *rest;
            char at[16];
            line = lua_message_line(m, src->path);
            snprintf(at, sizeof at, ":%u: ", line);
            if (line && (rest = strstr(m, at))) /* the place once, as PATH:LINE */
                m = rest + strlen(at);
            snprintf(why, sizeof why, "%.120s", m);
        }
        lua_pop(L, 1);
        if (trip != KPI_TRIP_NONE)
            kpi_formulas_rebuild(fe, NULL);
        if (line)
            return kpi_error_at(err, KPI_EPLUGIN, src->path, line, 0, "%s:%u: loading failed: %s",
                                src->path, line, why);
        return kpi_error_at(err, KPI_EPLUGIN, src->path, line, 0, "%s: loading failed: %s",
                            src->path, why);
    }
    if (!lua_isfunction(L, -1)) {
        char what[80];
        describe_value(L, -1, what, sizeof what);
        lua_pop(L, 1);
        return kpi_error_at(err, KPI_EPLUGIN, src->path, 0, 0,
                            "%s: the file must return a function (it returned %s)", src->path,
                            what);
    }
    lua_pop(L, 1);
    return 0;
}

int kpi_formulas_check_plugin(kpi_formulas *fe, size_t i, struct kpi_error *err)
{
    jmp_buf guard;

    assert(i < fe->n_sources);
    if (setjmp(guard)) {
        kpi_sandbox_guard(fe->sb, NULL);
        fe->tripped = true;
        return kpi_error_set(err, KPI_ENOMEM, "out of memory checking the plugins");
    }
    kpi_sandbox_guard(fe->sb, &guard);
    int rc = check_plugin(fe, &fe->sources[i], err);
    if (fe->sb)
        kpi_sandbox_guard(fe->sb, NULL);
    return rc;
}

int kpi_formulas_check_plugins(kpi_formulas *fe, struct kpi_error *err)
{
    for (size_t i = 0; i < fe->n_sources; i++) {
        struct kpi_error why = {0};
        int rc = kpi_formulas_check_plugin(fe, i, &why);
        if (rc == KPI_EPLUGIN)
            rc = mark_broken(fe, &fe->sources[i], why.line, why.message, err);
        else if (rc)
            return kpi_error_set(err, rc, "%s", why.message);
        if (rc)
            return rc;
    }
    return 0;
}

size_t kpi_formulas_plugin_count(const kpi_formulas *fe)
{
    return fe->n_sources;
}

const char *kpi_formulas_plugin_broken(const kpi_formulas *fe, size_t i)
{
    assert(i < fe->n_sources);
    return fe->sources[i].broken;
}

int kpi_formulas_mark_broken(kpi_formulas *fe, size_t i, unsigned line, const char *message,
                             struct kpi_error *err)
{
    assert(i < fe->n_sources);
    return mark_broken(fe, &fe->sources[i], line, message, err);
}

const char *kpi_formulas_plugin_file(const kpi_formulas *fe, size_t i, const char **bytes,
                                     size_t *len)
{
    if (i >= fe->n_sources)
        return NULL;
    if (!fe->sources[i].text) { /* refused unread: nothing of it ran */
        *bytes = NULL;
        *len = 0;
        return fe->sources[i].path;
    }
    *bytes = fe->sources[i].text + sizeof plugin_prefix - 1;
    *len = fe->sources[i].len - (sizeof plugin_prefix - 1);
    return fe->sources[i].path;
}

void kpi_formulas_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int kpi_formulas_list_dir(const char *dir, char ***out, size_t *n_out, struct kpi_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    if (!d)
        return errno == ENOENT ? 0 : kpi_error_set(err, KPI_EPLUGIN, "%s: cannot open: %s", dir,
                                                   strerror(errno));
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".lua"))
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
            if (!nn) {
                rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
                goto out;
            }
            names = nn;
        }
        if (!(names[n] = strndup(e->d_name, len - 4))) {
            rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, compare_names); /* same order on every machine */
out:
    closedir(d);
    if (rc) {
        kpi_formulas_free_names(names, n);
        return rc;
    }
    *out = names;
    *n_out = n;
    return 0;
}

/* A plugin file refused before it was compiled (a link, not a regular
 * file, too big, binary, a name no formula could call): kept, unread, as
 * broken, so that it costs only the KPIs that call it. */
static int add_refused(kpi_formulas *fe, const char *path, const char *name,
                       const struct kpi_error *why, struct kpi_error *err)
{
    if (fe->n_sources == fe->cap_sources) {
        size_t ncap = fe->cap_sources ? fe->cap_sources * 2 : 16;
        struct plugin_source *ns = realloc(fe->sources, ncap * sizeof *ns);
        if (!ns)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        fe->sources = ns;
        fe->cap_sources = ncap;
    }
    struct plugin_source *src = &fe->sources[fe->n_sources];
    memset(src, 0, sizeof *src);
    if (!(src->name = strdup(name)) || !(src->path = strdup(path))) {
        free(src->name);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    fe->n_sources++;
    return mark_broken(fe, src, why->line, why->message, err);
}

static int load_plugin_dir(kpi_formulas *fe, const char *dir, struct kpi_error *err)
{
    char **names;
    size_t n;
    int rc = kpi_formulas_list_dir(dir, &names, &n, err);

    for (size_t i = 0; i < n && !rc; i++) {
        char path[4096];
        struct kpi_error why = {0};
        snprintf(path, sizeof path, "%s/%s.lua", dir, names[i]);
        if (!kpi_text_is_lua_name(names[i]))
            rc = kpi_error_at(&why, KPI_EPLUGIN, path, 0, 0,
                              "%s: plugin name '%s' is not a Lua identifier, so no formula "
                              "could call it",
                              path, names[i]);
        else
            rc = read_plugin_file(fe, path, names[i], &why);
        if (rc == KPI_EPLUGIN)
            rc = add_refused(fe, path, names[i], &why, err);
        else if (rc && err)
            *err = why;
    }
    kpi_formulas_free_names(names, n);
    return rc;
}

/* ---- expressions -------------------------------------------------------- */

/* True when text starts with a statement keyword, so that when it does not
 * compile, the message of compiling it as a block is the one that helps. */
static bool looks_like_statements(const char *text)
{
    static const char *const keywords[] = {"local", "return", "if", "for", "while",
                                           "repeat", "do", "goto", "break"};
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        size_t n = strlen(keywords[i]);
        if (!strncmp(text, keywords[i], n) && !(text[n] == '_' || (text[n] >= '0' && text[n] <= '9') ||
                                                 (text[n] >= 'A' && text[n] <= 'Z') ||
                                                 (text[n] >= 'a' && text[n] <= 'z')))
            return true;
    }
    return false;
}

/* Compiled expressions kept at once. The cache is emptied when full, so a
 * plan of a million distinct formulas holds at most this many; which
 * entries are cached never changes a result. */
#define KPI_COMPILE_CACHE_MAX 4096

static int load_expression(kpi_formulas *fe, const char *src, size_t len)
{
    int rc = kpi_sandbox_load(fe->sb, src, len, "=formula");
    if (rc == LUA_ERRMEM)
        fe->compile_oom = true;
    return rc;
}

/* Pushes the compiled expression `id`, compiling it on first use: as
 * `return (<text>)`, else as a block; a text that does not compile leaves
 * the first attempt's error message instead. [-0, +1] */
static void push_compiled(kpi_formulas *fe, unsigned id)
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    size_t n;
    const char *const *texts = kpi_dataset_expressions(fe->ds, &n);

    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->compiled_ref); /* [compiled] */
    if (lua_rawgeti(L, -1, (lua_Integer)id + 1) != LUA_TNIL) {
        lua_remove(L, -2);                               /* [fn|msg] */
        return;
    }
    lua_pop(L, 1);                                       /* [compiled] */
    if (fe->n_compiled >= KPI_COMPILE_CACHE_MAX) {
        lua_pop(L, 1);
        luaL_unref(L, LUA_REGISTRYINDEX, fe->compiled_ref);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        fe->compiled_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* [compiled] */
        fe->n_compiled = 0;
    }
    fe->compile_oom = false;
    const char *text = texts[id];
    size_t len = strlen(text);
    luaL_Buffer b;
    /* The parentheses keep one value and stop a plugin call from being a
     * tail call, which would lose the formula's line in messages. A
     * formula ending in a -- comment needs the ')' on a line of its own;
     * one with statements compiles as a block. */
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "return (");
    luaL_addlstring(&b, text, len);
    luaL_addstring(&b, ")");
    luaL_pushresult(&b);                                 /* [compiled, src] */
    size_t m;
    const char *src = lua_tolstring(L, -1, &m);
    if (load_expression(fe, src, m) != LUA_OK) {
        /* [compiled, src, msg] */
        lua_pushfstring(L, "return (%s\n)", text);      /* [compiled, src, msg, src2] */
        src = lua_tolstring(L, -1, &m);
        if (load_expression(fe, src, m) != LUA_OK) {
            lua_pop(L, 1);                               /* [compiled, src, msg, src2] */
            if (load_expression(fe, text, len) != LUA_OK &&
                looks_like_statements(text)) {
                lua_pushvalue(L, -1);                    /* [.., msg, src2, msg3, msg3] */
                lua_replace(L, -4);                      /* keep the block's message */
            }
        }
        lua_remove(L, -2);                               /* [compiled, src, msg, fn|msg2] */
        if (lua_isfunction(L, -1))
            lua_remove(L, -2);                           /* [compiled, src, fn] */
        else
            lua_pop(L, 1);                               /* [compiled, src, msg] */
    }
    lua_remove(L, -2);                                   /* [compiled, fn|msg] */
    if (lua_type(L, -1) == LUA_TSTRING && strstr(lua_tostring(L, -1), "near ')'")) {
        /* Maybe the ')' of the wrapping: without it Lua names the real
         * spot ("a +": "unexpected symbol near <eof>"). */
        lua_pushfstring(L, "return %s", text);           /* [compiled, msg, src3] */
        src = lua_tolstring(L, -1, &m);
        if (load_expression(fe, src, m) != LUA_OK) {     /* [compiled, msg, src3, msg3] */
            lua_replace(L, -3);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 2);
        }
    }
    if (fe->compile_oom) {
        /* Out of memory is no property of the formula: not cached, and
         * the state is rebuilt before the next KPI. */
        fe->tripped = true;
    } else {
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, (lua_Integer)id + 1);         /* compiled[id+1] = fn|msg */
        fe->n_compiled++;
    }
    lua_remove(L, -2);                                   /* [fn|msg] */
}

/* ---- evaluation --------------------------------------------------------- */

/* Runs the compiled expression `id` with the environment at the top of the
 * stack; classifies the outcome. [-1, +0] */
static enum kpi_status run_expression(kpi_formulas *fe, const struct kpi_indicator *k, unsigned id,
                                      const char *what, double *value, char *msg)
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    int top = lua_gettop(L) - 1;
    enum kpi_sandbox_trip trip;
    enum kpi_status status = KPI_STATUS_ERROR;
    int rc;

    push_compiled(fe, id);                             /* [env, fn|msg] */
    if (!lua_isfunction(L, -1)) {
        if (fe->compile_oom) {
            snprintf(msg, KPI_MESSAGE_MAX, "%s: out of memory compiling the %s", k->id, what);
            lua_settop(L, top);
            return KPI_STATUS_ERROR;
        }
        compile_message(lua_tostring(L, -1), fe->ds, k, what, msg, KPI_MESSAGE_MAX);
        lua_settop(L, top);
        return KPI_STATUS_INVALID;
    }
    lua_insert(L, -2);                                 /* [fn, env] */
    lua_setupvalue(L, -2, 1);                          /* fn's _ENV = env; [fn] */

    fe->current = k;
    fe->missing[0] = fe->unknown[0] = fe->suggestion[0] = '\0';
    rc = kpi_sandbox_call(fe->sb, 0, 1, &trip);        /* [result|err] */
    if (trip != KPI_TRIP_NONE)
        fe->tripped = true;
    const struct kpi_sandbox_limits *lim = kpi_sandbox_limits(fe->sb);
    if (trip == KPI_TRIP_INSTRUCTIONS) {
        snprintf(msg, KPI_MESSAGE_MAX, "%s: %s stopped: instruction limit of %llu exceeded", k->id,
                 what, (unsigned long long)lim->instructions);
    } else if (trip == KPI_TRIP_TIME) {
        snprintf(msg, KPI_MESSAGE_MAX, "%s: %s stopped: time limit of %g s exceeded", k->id, what,
                 lim->seconds);
    } else if (trip == KPI_TRIP_MEMORY) {
        snprintf(msg, KPI_MESSAGE_MAX, "%s: %s stopped: memory limit of %zu bytes exceeded",
                 k->id, what, lim->memory);
    } else if (fe->unknown[0]) {
        size_t len = (size_t)snprintf(
            msg, KPI_MESSAGE_MAX, "%s: unknown %s '%s': ", k->id,
            fe->unknown_call ? "function" : "name", fe->unknown);
        if (k->declared)
            snprintf(msg + len, KPI_MESSAGE_MAX - len,
                     "not among the inputs the KPI declares (%s), a plugin or the library",
                     k->declared);
        else
            snprintf(msg + len, KPI_MESSAGE_MAX - len, "no plugin or library function has "
                                                       "that name");
        len = strlen(msg);
        if (fe->suggestion[0])
            snprintf(msg + len, KPI_MESSAGE_MAX - len, "; did you mean '%s'?", fe->suggestion);
    } else if (fe->missing[0]) {
        const char *period = kpi_dataset_period(fe->ds);
        size_t len = (size_t)snprintf(msg, KPI_MESSAGE_MAX, "input '%s' missing for '%s'%s%s%s",
                                      fe->missing, k->id, period ? " in period '" : "",
                                      period ? period : "", period ? "'" : "");
        if (fe->suggestion[0] && len < KPI_MESSAGE_MAX)
            snprintf(msg + len, KPI_MESSAGE_MAX - len, "; did you mean '%s'?", fe->suggestion);
        status = KPI_STATUS_MISSING;
    } else if (rc != LUA_OK) {
        convert_message(lua_tostring(L, -1), k, what, msg, KPI_MESSAGE_MAX);
    } else if (lua_type(L, -1) != LUA_TNUMBER) {
        char desc[80];
        describe_value(L, -1, desc, sizeof desc);
        snprintf(msg, KPI_MESSAGE_MAX, "%s: %s returned %s, not a number", k->id, what, desc);
    } else {
        double v = lua_tonumber(L, -1);
        if (isfinite(v)) {
            *value = v;
            status = KPI_STATUS_OK;
        } else {
            snprintf(msg, KPI_MESSAGE_MAX, "%s: %s returned %s, not a finite number", k->id, what,
                     isnan(v) ? "NaN (e.g. 0/0)" : v > 0 ? "inf (e.g. a division by 0)" : "-inf");
        }
    }
    fe->current = NULL;
    lua_settop(L, top);
    return status;
}

/* Pushes a fresh environment for k: the inputs, then names resolved on
 * demand. [-0, +1] */
static void push_formula_env(kpi_formulas *fe, const struct kpi_indicator *k)
{
    lua_State *L = kpi_sandbox_state(fe->sb);

    lua_createtable(L, 0, (int)k->n_inputs);
    for (unsigned i = 0; i < k->n_inputs; i++) {
        if (kpi_input_is_filled(&k->inputs[i]))
            continue; /* resolve_name's, so that it never hides a plugin */
        lua_pushnumber(L, k->inputs[i].value);
        lua_setfield(L, -2, k->inputs[i].name);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->formula_mt_ref);
    lua_setmetatable(L, -2);                           /* [env] */
}

/* ---- validation rules --------------------------------------------------- */

/* Compiles each rule's check into fe->rules_ref, as an expression like a
 * formula, with the chunk name "rule ID" for its messages. Returns 0, or
 * KPI_EINPUT naming rules.csv and the line. */
static int compile_rules(kpi_formulas *fe, struct kpi_error *err)
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    size_t n;
    const struct kpi_rule *rules = kpi_rules_list(fe->rules, &n);

    lua_newtable(L);                                   /* [checks] */
    for (size_t i = 0; i < n; i++) {
        char chunkname[96];
        snprintf(chunkname, sizeof chunkname, "=rule %.80s", rules[i].id);
        lua_pushfstring(L, "return (%s)", rules[i].check); /* [checks, src] */
        int rc = kpi_sandbox_load(fe->sb, lua_tostring(L, -1), lua_rawlen(L, -1), chunkname);
        if (rc != LUA_OK && rc != LUA_ERRMEM) {        /* [checks, src, msg]: a -- comment? */
            lua_pushfstring(L, "return (%s\n)", rules[i].check);
            rc = kpi_sandbox_load(fe->sb, lua_tostring(L, -1), lua_rawlen(L, -1), chunkname);
            lua_remove(L, -2);                         /* [checks, src, msg, fn|msg2] */
            if (rc == LUA_OK)
                lua_remove(L, -2);                     /* [checks, src, fn] */
            else
                lua_pop(L, 1);                         /* [checks, src, msg]: the first one */
        }
        if (rc == LUA_ERRMEM) {
            lua_pop(L, 3);
            return kpi_error_set(err, KPI_ENOMEM, "out of memory compiling the rules");
        }
        if (rc != LUA_OK) {                            /* [checks, src, msg] */
            kpi_error_at(err, KPI_EINPUT, "rules.csv", rules[i].line, 0,
                         "rules.csv:%u: the check of rule '%s' does not compile: %s",
                         rules[i].line, rules[i].id,
                         lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
            lua_pop(L, 3);
            return KPI_EINPUT;
        }
        lua_remove(L, -2);                             /* [checks, fn] */
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    fe->rules_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int kpi_formulas_set_rules(kpi_formulas *fe, const kpi_rules *rules, struct kpi_error *err)
{
    jmp_buf guard;
    size_t n;

    fe->rules = NULL;
    kpi_rules_list(rules, &n);
    if (!n)
        return 0;
    if (setjmp(guard)) {
        kpi_sandbox_guard(fe->sb, NULL);
        fe->tripped = true;
        return kpi_error_set(err, KPI_ENOMEM, "out of memory compiling the rules");
    }
    kpi_sandbox_guard(fe->sb, &guard);
    fe->rules = rules;
    int rc = compile_rules(fe, err);
    kpi_sandbox_guard(fe->sb, NULL);
    if (rc)
        fe->rules = NULL;
    return rc;
}

const char *kpi_formulas_note(const kpi_formulas *fe)
{
    return fe->note[0] ? fe->note : NULL;
}

_Static_assert(KPI_RULE_NOTE_MAX == KPI_MESSAGE_MAX, "a note travels in a message's room");

/* Adds a line to fe->note; lines that do not fit whole are left out. */
static void add_note(kpi_formulas *fe, const char *line)
{
    size_t used = strlen(fe->note), n = strlen(line);
    if (used + (used ? 1 : 0) + n + 1 > sizeof fe->note)
        return;
    if (used)
        fe->note[used++] = '\n';
    memcpy(fe->note + used, line, n + 1);
}

/* Runs the rules that apply to k, in file order, before its formula. A
 * failed `error` rule, or a check stopped by a limit, makes k `error`
 * (msg); a failed `warning` rule adds a line to fe->note. A check that
 * uses a name k lacks is skipped; one that raises an error or gives no
 * boolean fails, with the reason. */
static enum kpi_status run_rules(kpi_formulas *fe, const struct kpi_indicator *k,
                                 char msg[KPI_MESSAGE_MAX])
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    size_t n;
    const struct kpi_rule *rules = kpi_rules_list(fe->rules, &n);
    for (size_t i = 0; i < n; i++) {
        const struct kpi_rule *rule = &rules[i];
        enum kpi_sandbox_trip trip;
        char why[200], text[KPI_MESSAGE_MAX];
        const char *reason = NULL;
        bool failed = true;
        int top = lua_gettop(L);

        if (!kpi_rule_applies(rule, k))
            continue;
        push_formula_env(fe, k);                       /* [env] */
        lua_rawgeti(L, LUA_REGISTRYINDEX, fe->rules_ref);
        lua_rawgeti(L, -1, (lua_Integer)i + 1);        /* [env, checks, fn] */
        lua_remove(L, -2);
        lua_insert(L, -2);                             /* [fn, env] */
        lua_setupvalue(L, -2, 1);                      /* fn's _ENV = env; [fn] */
        fe->current = k;
        fe->missing[0] = '\0';
        fe->mode = MODE_RULE;
        int rc = kpi_sandbox_call(fe->sb, 0, 1, &trip); /* [result|err] */
        fe->mode = MODE_FORMULA;
        fe->current = NULL;
        if (trip != KPI_TRIP_NONE) {
            fe->tripped = true;
            snprintf(why, sizeof why, "stopped: %s limit exceeded",
                     trip == KPI_TRIP_INSTRUCTIONS ? "instruction"
                     : trip == KPI_TRIP_MEMORY     ? "memory"
                                                   : "time");
            reason = why;
        } else if (fe->missing[0]) {
            failed = false; /* the check is not about this KPI */
        } else if (rc != LUA_OK) {
            snprintf(why, sizeof why, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
            reason = why;
        } else if (!lua_isboolean(L, -1)) {
            char desc[80];
            describe_value(L, -1, desc, sizeof desc);
            snprintf(why, sizeof why, "the check gave %s, not true or false", desc);
            reason = why;
        } else {
            failed = !lua_toboolean(L, -1);
        }
        lua_settop(L, top);
        if (!failed)
            continue;
        if (rule->severity == KPI_RULE_ERROR || trip != KPI_TRIP_NONE) {
            int at = snprintf(msg, KPI_MESSAGE_MAX, "%s: ", k->id);
            if (at < 0 || at > KPI_MESSAGE_MAX - 1)
                at = KPI_MESSAGE_MAX - 1;
            kpi_rule_describe(rule, k, reason, false, msg + at, KPI_MESSAGE_MAX - (size_t)at);
            return KPI_STATUS_ERROR;
        }
        kpi_rule_describe(rule, k, reason, true, text, sizeof text);
        add_note(fe, text);
    }
    return KPI_STATUS_OK;
}

enum kpi_status kpi_formulas_eval(kpi_formulas *fe, const struct kpi_indicator *k, double *actual,
                                  char msg[KPI_MESSAGE_MAX])
{
    lua_State *L = kpi_sandbox_state(fe->sb);

    /* A scoring expression that cannot compile makes the KPI invalid
     * before anything runs. */
    if (k->scoring == KPI_SCORING_EXPRESSION) {
        push_compiled(fe, k->scoring_id);              /* [fn|msg] */
        if (!lua_isfunction(L, -1) && fe->compile_oom) {
            snprintf(msg, KPI_MESSAGE_MAX, "%s: out of memory compiling the scoring", k->id);
            lua_pop(L, 1);
            return KPI_STATUS_ERROR;
        }
        if (!lua_isfunction(L, -1)) {
            compile_message(lua_tostring(L, -1), fe->ds, k, "scoring", msg, KPI_MESSAGE_MAX);
            lua_pop(L, 1);
            return KPI_STATUS_INVALID;
        }
        lua_pop(L, 1);
    }

    push_formula_env(fe, k);                           /* [env] */
    fe->mode = MODE_FORMULA;
    return run_expression(fe, k, k->formula_id, "formula", actual, msg);
}

enum kpi_status kpi_formulas_eval_scoring(kpi_formulas *fe, const struct kpi_indicator *k,
                                          double actual, double *value,
                                          char msg[KPI_MESSAGE_MAX])
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    enum kpi_status status;

    lua_createtable(L, 0, 3);
    lua_pushnumber(L, actual);
    lua_setfield(L, -2, "actual");
    lua_pushnumber(L, k->target);
    lua_setfield(L, -2, "target");
    if (k->has_baseline) {
        lua_pushnumber(L, k->baseline);
        lua_setfield(L, -2, "baseline");
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->formula_mt_ref);
    lua_setmetatable(L, -2);
    fe->mode = MODE_SCORING;
    status = run_expression(fe, k, k->scoring_id, "scoring", value, msg);
    fe->mode = MODE_FORMULA;
    return status;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* A new sandbox with the plugins installed from fe->sources. */
static int build_state(kpi_formulas *fe, struct kpi_error *err)
{
    lua_State *L;
    volatile int rc = 0;
    jmp_buf guard;

    fe->sb = kpi_sandbox_new(&fe->limits);
    if (!fe->sb)
        return kpi_error_set(err, KPI_ENOMEM, "cannot create the Lua sandbox (out of memory)");
    if (setjmp(guard)) {
        kpi_sandbox_guard(fe->sb, NULL);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory building the Lua sandbox");
    }
    kpi_sandbox_guard(fe->sb, &guard);
    L = kpi_sandbox_state(fe->sb);
    lua_newtable(L);
    fe->plugins_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    fe->compiled_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    fe->n_compiled = 0;
    push_env_metatable(L, fe, true);
    fe->formula_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    push_env_metatable(L, fe, false);
    fe->plugin_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    kpi_sandbox_push_library(fe->sb, L);               /* [lib] */
    lua_pushlightuserdata(L, fe);
    lua_pushcclosure(L, input_function, 1);
    lua_setfield(L, -2, "input");
    lua_pop(L, 1);

    for (size_t i = 0; i < fe->n_sources && !rc; i++)
        rc = install_plugin(fe, &fe->sources[i], err);
    if (!rc && fe->rules)
        rc = compile_rules(fe, err);
    kpi_sandbox_guard(fe->sb, NULL);
    fe->tripped = false;
    return rc;
}

int kpi_formulas_new(const kpi_dataset *ds, const struct kpi_sandbox_limits *limits,
                     const char *const *dirs, size_t n_dirs, kpi_formulas **out,
                     struct kpi_error *err)
{
    kpi_formulas *fe = calloc(1, sizeof *fe);
    int rc = 0;

    *out = NULL;
    if (!fe)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    fe->ds = ds;
    if (limits)
        fe->limits = *limits; /* else zeros: the sandbox's defaults */
    for (size_t i = 0; i < n_dirs && !rc; i++)
        rc = load_plugin_dir(fe, dirs[i], err);
    if (!rc)
        rc = build_state(fe, err);
    if (rc) {
        kpi_formulas_free(fe);
        return rc;
    }
    *out = fe;
    return 0;
}

int kpi_formulas_rebuild(kpi_formulas *fe, struct kpi_error *err)
{
    kpi_sandbox_free(fe->sb);
    fe->sb = NULL;
    return build_state(fe, err);
}

bool kpi_formulas_tripped(const kpi_formulas *fe)
{
    return fe->tripped;
}

void kpi_formulas_free(kpi_formulas *fe)
{
    if (!fe)
        return;
    kpi_sandbox_free(fe->sb);
    for (size_t i = 0; i < fe->n_sources; i++) {
        free(fe->sources[i].name);
        free(fe->sources[i].path);
        free(fe->sources[i].text);
        free(fe->sources[i].broken);
    }
    free(fe->sources);
    free(fe);
}

static bool eval_guarded(kpi_formulas *fe, const struct kpi_indicator *k, struct kpi_result *r,
                         char msg[KPI_MESSAGE_MAX]);

void kpi_formulas_set_rows(kpi_formulas *fe, const struct kpi_result *rows)
{
    fe->rows = rows;
}

/* The first dependency of k that is not ok, named in msg: a composite KPI
 * is not evaluated on a value that is not there. */
static bool dependency_failed(const kpi_formulas *fe, const struct kpi_indicator *k,
                              char msg[KPI_MESSAGE_MAX])
{
    static const char *const is[KPI_STATUS_COUNT] = {
        [KPI_STATUS_OK] = "is ok",
        [KPI_STATUS_MISSING] = "is missing",
        [KPI_STATUS_ERROR] = "is in error",
        [KPI_STATUS_INVALID] = "is invalid",
    };
    for (unsigned d = 0; d < k->n_deps; d++) {
        const struct kpi_result *r = dependency_row(fe, k->deps[d]);
        if (!r) {
            snprintf(msg, KPI_MESSAGE_MAX,
                     "dependency '%s' was not evaluated before '%s' in this run", k->deps[d],
                     k->id);
            return true;
        }
        if (r->status == KPI_STATUS_OK)
            continue;
        /* Its own reason, short: the whole of it is on its own row. */
        snprintf(msg, KPI_MESSAGE_MAX, "dependency '%s' %s: %.200s", k->deps[d], is[r->status],
                 r->message ? r->message : kpi_status_name(r->status));
        return true;
    }
    return false;
}

bool kpi_formulas_eval_kpi(kpi_formulas *fe, const struct kpi_indicator *k, struct kpi_result *r,
                           char msg[KPI_MESSAGE_MAX])
{
    jmp_buf guard;

    memset(r, 0, sizeof *r);
    fe->note[0] = '\0';
    if (k->invalid) {
        r->status = KPI_STATUS_INVALID;
        r->message = k->invalid; /* lives in the dataset */
        return false;
    }
    if (k->n_deps && dependency_failed(fe, k, msg)) {
        r->status = KPI_STATUS_ERROR;
        kpi_text_utf8_repair(msg); /* the cut may split a character */
        return true;
    }
    if (setjmp(guard)) {
        /* Out of memory in the host's own Lua calls: this KPI fails and
         * the state is rebuilt before the next one. */
        kpi_sandbox_guard(fe->sb, NULL);
        fe->tripped = true;
        fe->current = NULL;
        memset(r, 0, sizeof *r);
        r->status = KPI_STATUS_ERROR;
        snprintf(msg, KPI_MESSAGE_MAX, "%s: out of memory in the evaluator", k->id);
        return true;
    }
    kpi_sandbox_guard(fe->sb, &guard);
    bool has_message = eval_guarded(fe, k, r, msg);
    kpi_sandbox_guard(fe->sb, NULL);
    return has_message;
}

static bool eval_guarded(kpi_formulas *fe, const struct kpi_indicator *k, struct kpi_result *r,
                         char msg[KPI_MESSAGE_MAX])
{
    enum kpi_status st = fe->rules ? run_rules(fe, k, msg) : KPI_STATUS_OK;

    if (st != KPI_STATUS_OK) {
        r->status = st;
        kpi_text_utf8_repair(msg);
        return true;
    }
    st = kpi_formulas_eval(fe, k, &r->actual, msg);
    r->has_actual = st == KPI_STATUS_OK;
    if (st == KPI_STATUS_OK && k->scoring == KPI_SCORING_EXPRESSION) {
        st = kpi_formulas_eval_scoring(fe, k, r->actual, &r->score_value, msg);
        r->has_score_value = st == KPI_STATUS_OK;
        if (st == KPI_STATUS_MISSING)
            st = KPI_STATUS_ERROR;
    }
    r->status = st;
    if (st == KPI_STATUS_OK)
        return false;
    kpi_text_utf8_repair(msg); /* Lua strings may hold any bytes */
    return true;
}

bool kpi_formulas_compiles(kpi_formulas *fe, unsigned id, char msg[KPI_MESSAGE_MAX])
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    jmp_buf guard;
    volatile bool ok = false;

    if (setjmp(guard)) {
        kpi_sandbox_guard(fe->sb, NULL);
        fe->tripped = true;
        snprintf(msg, KPI_MESSAGE_MAX, "out of memory compiling it");
        return false;
    }
    kpi_sandbox_guard(fe->sb, &guard);
    push_compiled(fe, id);
    ok = lua_isfunction(L, -1);
    if (!ok)
        snprintf(msg, KPI_MESSAGE_MAX, "%s",
                 fe->compile_oom ? "out of memory compiling it" : lua_tostring(L, -1));
    lua_pop(L, 1);
    kpi_sandbox_guard(fe->sb, NULL);
    return ok;
}

enum kpi_name_kind kpi_formulas_name_kind(kpi_formulas *fe, const char *name)
{
    lua_State *L = kpi_sandbox_state(fe->sb);
    volatile enum kpi_name_kind kind = KPI_NAME_UNKNOWN;
    jmp_buf guard;

    if (!strcmp(name, "kpi") || !strcmp(name, KPI_REF_FUNCTION))
        return KPI_NAME_KPI; /* the builder checks kpi_value's ids */
    if (setjmp(guard)) { /* out of memory: kpi_formulas_tripped() tells */
        kpi_sandbox_guard(fe->sb, NULL);
        fe->tripped = true;
        return KPI_NAME_UNKNOWN;
    }
    kpi_sandbox_guard(fe->sb, &guard);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fe->plugins_ref);
    int type = lua_getfield(L, -1, name);
    kind = type == LUA_TFUNCTION ? KPI_NAME_PLUGIN
         : type == LUA_TSTRING   ? KPI_NAME_BROKEN
                                 : KPI_NAME_UNKNOWN;
    lua_pop(L, 2);
    if (!kind) {
        kpi_sandbox_push_library(fe->sb, L);
        if (lua_getfield(L, -1, name) != LUA_TNIL)
            kind = KPI_NAME_LIBRARY;
        lua_pop(L, 2);
    }
    kpi_sandbox_guard(fe->sb, NULL);
    if (!kind && is_forbidden(name))
        kind = KPI_NAME_FORBIDDEN;
    return kind;
}

void kpi_formulas_offer_names(kpi_formulas *fe, struct kpi_suggest *s)
{
    lua_State *L = kpi_sandbox_state(fe->sb);

    for (size_t i = 0; i < fe->n_sources; i++)
        kpi_suggest_offer(s, fe->sources[i].name, 0);
    kpi_sandbox_push_library(fe->sb, L);
    offer_library(L, s);
    lua_pop(L, 1);
}

void kpi_formulas_plugin_list(const kpi_formulas *fe, char *out, size_t size)
{
    size_t len = 0;
    const char *last = "";

    out[0] = '\0';
    /* n_sources is small (files in a few folders): pick in byte order */
    for (;;) {
        const char *next = NULL;
        for (size_t i = 0; i < fe->n_sources; i++)
            if (strcmp(fe->sources[i].name, last) > 0 &&
                (!next || strcmp(fe->sources[i].name, next) < 0))
                next = fe->sources[i].name;
        if (!next || len + strlen(next) + 3 >= size)
            break;
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", next);
        last = next;
    }
}

size_t kpi_formulas_memory_limit(const kpi_formulas *fe)
{
    return fe->limits.memory ? fe->limits.memory : KPI_DEFAULT_MEMORY;
}
