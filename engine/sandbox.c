#include "sandbox.h"

#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#define HOOK_STEP 1000 /* instructions between two count-hook calls */

struct kpi_sandbox {
    lua_State *L;
    lua_State *co;       /* the thread every evaluation runs in */
    int co_ref;
    struct kpi_sandbox_limits limits;
    int library_ref;     /* registry ref of the allowed-names table */

    lua_Hook hook;
    jmp_buf *guard;      /* where a Lua panic jumps to, or NULL */
    size_t used;         /* bytes held by the state */
    size_t memory_cap;   /* enforced while armed */
    size_t refused;      /* size of a refused request not yet retried, or 0 */
    bool refuse_all;     /* a limit was hit where no yield is possible */
    int hook_step;       /* instructions between hook calls just now */
    int64_t deadline;    /* kpi_sandbox_now() value the evaluation must end by */
    bool armed;
    uint64_t executed;   /* instructions counted in this evaluation */
    uint64_t since_clock; /* instructions since the clock was last read */
    size_t clean;        /* bytes held right after the last full collection */
    enum kpi_sandbox_trip trip;
};

/* From now until the end of this evaluation the hook runs at every
 * instruction, so a limit takes effect at once. */
static void check_every_instruction(kpi_sandbox *sb)
{
    if (sb->hook_step != 1) {
        sb->hook_step = 1;
        lua_sethook(sb->co, sb->hook, LUA_MASKCOUNT, 1);
    }
}

int64_t kpi_sandbox_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kpi_sandbox_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    kpi_sandbox *sb = ud;
    size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */

    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (sb->armed && sb->refuse_all && nsize > old)
        return NULL; /* a limit was hit: the evaluation is being stopped */
    if (sb->armed && nsize > old && sb->used - old + nsize > sb->memory_cap) {
        /* Lua often answers a refusal with a full collection and a retry
         * of the same request. Only a refusal still standing at the next
         * instruction is a trip; the hook checks from then on. */
        sb->refused = nsize;
        check_every_instruction(sb);
        return NULL;
    }
    if (sb->refused == nsize)
        sb->refused = 0; /* the retry after a collection fits */
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    sb->used = sb->used - old + nsize;
    return p;
}

static kpi_sandbox *sandbox_of(lua_State *L)
{
    return *(kpi_sandbox **)lua_getextraspace(L);
}

/* Fires every HOOK_STEP instructions. Once a limit is hit it yields the
 * evaluation thread: a yield is not an error, so no pcall in the formula
 * can catch it, and the thread is abandoned. Inside a C function that
 * cannot yield (a table.sort comparator, say) it raises an error instead
 * and, now counting every instruction, yields as soon as it can. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    kpi_sandbox *sb = sandbox_of(L);
    (void)ar;
    if (sb->trip == KPI_TRIP_NONE && sb->refused)
        sb->trip = KPI_TRIP_MEMORY;
    if (sb->trip == KPI_TRIP_NONE) {
        sb->executed += (uint64_t)sb->hook_step;
        if (sb->executed <= sb->limits.instructions) {
            if (sb->hook_step == 1 && !sb->refused) {
                /* A refused allocation was retried and fitted: back to
                 * the normal step, so the clock below is read again. */
                sb->hook_step = HOOK_STEP;
                lua_sethook(sb->co, sb->hook, LUA_MASKCOUNT, HOOK_STEP);
            }
            /* The CPU clock is read once per HOOK_STEP instructions, also
             * while the hook runs at every instruction. */
            sb->since_clock += (uint64_t)sb->hook_step;
            if (sb->since_clock < HOOK_STEP)
                return;
            sb->since_clock = 0;
            if (kpi_sandbox_cpu_now() < sb->deadline)
                return;
            sb->trip = KPI_TRIP_TIME;
        } else {
            sb->trip = KPI_TRIP_INSTRUCTIONS;
        }
        check_every_instruction(sb);
    }
    if (lua_isyieldable(L)) {
        lua_yield(L, 0); /* a hook yields by returning right after this */
        return;
    }
    /* Cannot yield here (inside a C call such as table.sort). A runtime
     * error would run xpcall message handlers, which could loop with the
     * hook off; a memory error runs none. So refuse every allocation from
     * now on and ask for one. */
    sb->refuse_all = true;
    lua_newuserdatauv(L, 64, 0);
}

static int readonly_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify the read-only library table");
}

/* Metatable fields a formula may not use: __gc (a finalizer would run
 * later, in the middle of another KPI's evaluation), __close (a handler
 * would run while an abandoned evaluation is cleaned up, outside any
 * limit) and __mode (a weak table shows when the collector ran, which
 * depends on the KPIs evaluated before in the same state). */
static const char *const refused_fields[] = {"__gc", "__close", "__mode"};

static const char *refused_field(lua_State *L, int idx)
{
    for (size_t i = 0; i < sizeof refused_fields / sizeof refused_fields[0]; i++) {
        lua_pushstring(L, refused_fields[i]);
        int t = lua_rawget(L, idx);
        lua_pop(L, 1);
        if (t != LUA_TNIL)
            return refused_fields[i];
    }
    return NULL;
}

/* __newindex of a sealed metatable: a new key is stored as usual, except a
 * refused field. Upvalue 1: the metatable's own earlier __newindex, or
 * nil. */
static int sealed_newindex(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *k = lua_tostring(L, 2);
        for (size_t i = 0; i < sizeof refused_fields / sizeof refused_fields[0]; i++) {
            if (!strcmp(k, refused_fields[i]))
                return luaL_error(L, "a metatable cannot gain %s in formulas", k);
        }
    }
    if (lua_isnil(L, lua_upvalueindex(1))) {
        lua_settop(L, 3);
        lua_rawset(L, 1);
        return 0;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    if (lua_isfunction(L, -1)) {
        lua_insert(L, 1);
        lua_call(L, 3, 0);
    } else {
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_settable(L, -3);
    }
    return 0;
}

static const char sealed_marker[] = "sealed";

/* Seals the table at idx, about to become a metatable: from now on it can
 * never hold a refused field. Its own metatable (kept, with its __index
 * and the rest) gains a filtering __newindex and is locked, so it cannot
 * be swapped for one that lets the field in. */
static void seal_metatable(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_getmetatable(L, idx)) {                  /* [own] */
        lua_getfield(L, -1, "__metatable");
        bool sealed = lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), sealed_marker);
        bool locked = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (sealed) {
            lua_pop(L, 1);
            return;
        }
        if (locked)
            luaL_error(L, "setmetatable: a table with a protected metatable cannot be a metatable");
    } else {
        lua_newtable(L);                             /* [own] */
    }
    lua_createtable(L, 0, 8);                        /* [own, copy] */
    lua_pushnil(L);
    while (lua_next(L, -3) != 0) {                   /* [own, copy, k, v] */
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_getfield(L, -2, "__newindex");               /* [own, copy, ni] */
    lua_pushcclosure(L, sealed_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushstring(L, sealed_marker);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);                        /* [own] */
    lua_pop(L, 1);
}

/* Like setmetatable, but refuses the fields above, now and later. */
static int safe_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, lua_isnoneornil(L, 2) || lua_istable(L, 2), 2, "nil or table");
    lua_settop(L, 2);
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    if (lua_istable(L, 2)) {
        const char *refused = refused_field(L, 2);
        if (refused)
            return luaL_error(L, "setmetatable: %s is not allowed in formulas", refused);
        if (lua_rawequal(L, 1, 2))
            return luaL_error(L, "setmetatable: a table cannot be its own metatable in formulas");
        seal_metatable(L, 2);
    }
    lua_setmetatable(L, 1);
    return 1;
}

/* table.sort without the random pivot: Lua 5.4 picks one from clock() and
 * time() when a partition comes out unbalanced, so an adversarial (valid)
 * comparator would make the order differ from run to run. A bottom-up
 * merge sort is deterministic, O(n log n) for every comparator, and never
 * fails on an inconsistent one. */
static bool sort_less(lua_State *L, int a, int b, bool has_cmp)
{
    a = lua_absindex(L, a);
    b = lua_absindex(L, b);
    if (!has_cmp)
        return lua_compare(L, a, b, LUA_OPLT);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, a);
    lua_pushvalue(L, b);
    lua_call(L, 2, 1);
    bool lt = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return lt;
}

static int deterministic_sort(lua_State *L)
{
    kpi_sandbox *sb = sandbox_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    bool has_cmp = !lua_isnoneornil(L, 2);
    if (has_cmp)
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    if (n < 2)
        return 0;
    if ((lua_Unsigned)n >= sb->limits.memory / 16 || n >= INT_MAX)
        return luaL_error(L, "table.sort: %I elements are beyond the memory limit", n);
    lua_createtable(L, (int)n, 0);                   /* 3: from */
    lua_createtable(L, (int)n, 0);                   /* 4: to */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        lua_rawseti(L, 3, i);
    }
    luaL_checkstack(L, 8, "table.sort");
    for (lua_Integer width = 1; width < n; width *= 2) {
        for (lua_Integer lo = 1; lo <= n; lo += 2 * width) {
            lua_Integer mid = lo + width < n + 1 ? lo + width : n + 1;
            lua_Integer hi = lo + 2 * width < n + 1 ? lo + 2 * width : n + 1;
            lua_Integer i = lo, j = mid, k = lo;
            while (i < mid || j < hi) {
                bool take_right = false;
                if (i < mid && j < hi) {
                    lua_rawgeti(L, 3, j);
                    lua_rawgeti(L, 3, i);
                    take_right = sort_less(L, -2, -1, has_cmp); /* right < left: stable */
                    lua_pop(L, 2);
                } else {
                    take_right = i >= mid;
                }
                lua_rawgeti(L, 3, take_right ? j++ : i++);
                lua_rawseti(L, 4, k++);
            }
        }
        lua_pushvalue(L, 3);                         /* swap from and to */
        lua_pushvalue(L, 4);
        lua_replace(L, 3);
        lua_replace(L, 4);
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, i);
        lua_seti(L, 1, i);
    }
    return 0;
}

/* The library functions below loop in C, where the instruction hook
 * cannot stop them; their arguments are bounded before they start. */

/* string.rep: refuses results larger than the memory limit, and returns
 * "" at once for empty pieces (the original would loop n times). */
static int bounded_rep(lua_State *L)
{
    kpi_sandbox *sb = sandbox_of(L);
    size_t l, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (!lua_isnoneornil(L, 3))
        luaL_checklstring(L, 3, &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    if ((lua_Unsigned)n > sb->limits.memory / (l + lsep) + 1) {
        /* As good as an allocation over the cap: a memory trip. */
        if (sb->armed && sb->trip == KPI_TRIP_NONE) {
            sb->trip = KPI_TRIP_MEMORY;
            check_every_instruction(sb);
        }
        return luaL_error(L, "string.rep: the result would exceed the memory limit of %I bytes",
                          (lua_Integer)sb->limits.memory);
    }
    lua_pushvalue(L, lua_upvalueindex(1)); /* [s, n, sep?, rep] */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* table.move: a range larger than any table the memory limit allows is
 * refused (the original walks every index, even of an empty table). */
static int bounded_move(lua_State *L)
{
    kpi_sandbox *sb = sandbox_of(L);
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= sb->limits.memory / 16)
        return luaL_error(L, "table.move: a range of %I elements is beyond the memory limit",
                          (lua_Integer)((lua_Unsigned)e - (lua_Unsigned)f + 1));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* True when the value at idx would print as an address ("table: 0x..."),
 * which differs from run to run. */
static bool prints_as_address(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    if (t != LUA_TTABLE && t != LUA_TFUNCTION && t != LUA_TTHREAD && t != LUA_TUSERDATA &&
        t != LUA_TLIGHTUSERDATA)
        return false;
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return false;
    }
    return true;
}

/* tostring without addresses: a table prints as "table", so no result can
 * depend on where the allocator put it. */
static int deterministic_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    if (prints_as_address(L, 1))
        lua_pushstring(L, luaL_typename(L, 1));
    else
        luaL_tolstring(L, 1, NULL);
    return 1;
}

/* string.format without addresses: '%p' is refused and tables given to
 * '%s' print as their type name. */
static int deterministic_format(lua_State *L)
{
    int n = lua_gettop(L);
    size_t len;
    const char *fmt = luaL_checklstring(L, 1, &len), *end = fmt + len;
    /* The whole string, NULs included: string.format reads past them. */
    for (const char *p = memchr(fmt, '%', len); p; p = memchr(p, '%', (size_t)(end - p))) {
        const char *q = p + 1;
        if (q < end && *q == '%') {
            p = q + 1;
            continue;
        }
        while (q < end && *q && strchr("-+ #0123456789.", *q))
            q++;
        if (q < end && *q == 'p')
            return luaL_error(L, "string.format: '%%p' (an address) is not available to formulas");
        p = q;
    }
    for (int i = 2; i <= n; i++) {
        if (prints_as_address(L, i)) {
            lua_pushstring(L, luaL_typename(L, i));
            lua_replace(L, i);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1)); /* [fmt, args..., format] */
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* Library functions replaced by a wrapper around the original (its
 * upvalue): bounded before they loop in C, or made deterministic. */
struct wrapped_function {
    const char *library, *name;
    lua_CFunction wrapper;
};

static const struct wrapped_function wrapped_functions[] = {
    {"string", "rep", bounded_rep},
    {"string", "format", deterministic_format},
    {"table", "move", bounded_move},
    {"table", "sort", deterministic_sort},
};

static const char *const base_allowed[] = {
    "assert", "error", "getmetatable", "ipairs", "pcall", "rawequal",
    "rawget", "rawlen", "select", "tonumber", "tostring", "type", "xpcall", NULL,
};

struct library_filter {
    const char *name;
    lua_CFunction open;
    const char *const *removed; /* names dropped from the library */
};

static const char *const math_removed[] = {"random", "randomseed", NULL};
static const char *const string_removed[] = {"dump", NULL};
static const char *const none_removed[] = {NULL};

static const struct library_filter libraries[] = {
    {"math", luaopen_math, math_removed},
    {"string", luaopen_string, string_removed},
    {"table", luaopen_table, none_removed},
    {"utf8", luaopen_utf8, none_removed},
};

/* Deterministic iteration. Lua seeds its string hashes afresh in every
 * state, so the order of next() differs between runs and between workers;
 * pairs() here visits keys in a fixed order instead: numbers ascending,
 * then strings in byte order, then booleans (false first), then the rest. */
static int key_rank(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER: return 0;
    case LUA_TSTRING: return 1;
    case LUA_TBOOLEAN: return 2;
    default: return 3;
    }
}

static int key_less(lua_State *L)
{
    int ra = key_rank(L, 1), rb = key_rank(L, 2);
    if (ra != rb)
        lua_pushboolean(L, ra < rb);
    else if (ra == 0 || ra == 1)
        lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    else if (ra == 2)
        lua_pushboolean(L, !lua_toboolean(L, 1) && lua_toboolean(L, 2));
    else
        lua_pushboolean(L, 0);
    return 1;
}

/* Upvalues: the sorted keys, the position. State: the table (or proxy). */
static int sorted_next(lua_State *L)
{
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;
    if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) /* [t, ctl, key] */
        return 0;
    lua_pushinteger(L, i);
    lua_replace(L, lua_upvalueindex(2));
    lua_pushvalue(L, -1);
    lua_gettable(L, 1);                                   /* [t, ctl, key, value] */
    return 2;
}

/* Pushes (iterator, state, nil) over the keys of the table at `source`,
 * reading values through `state`. Upvalue 1 of the caller: table.sort. */
static int push_sorted_pairs(lua_State *L, int source, int state)
{
    lua_Integer n = 0;
    lua_newtable(L);                                      /* [..., keys] */
    int keys = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, source) != 0) {
        lua_pop(L, 1);                                    /* [..., keys, key] */
        if (key_rank(L, -1) == 3)
            return luaL_error(L, "pairs: a table with %s keys has no fixed order; "
                                 "keep such keys in a list and use ipairs",
                              luaL_typename(L, -1));
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++n);
    }
    lua_pushvalue(L, lua_upvalueindex(1));                /* table.sort */
    lua_pushvalue(L, keys);
    lua_pushcfunction(L, key_less);
    lua_call(L, 2, 0);
    lua_pushinteger(L, 0);                                /* [..., keys, 0] */
    lua_pushcclosure(L, sorted_next, 2);                  /* [..., iter] */
    lua_pushvalue(L, state);
    lua_pushnil(L);
    return 3;
}

static int deterministic_pairs(lua_State *L)
{
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) { /* [t, mm] */
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    return push_sorted_pairs(L, 1, 1);
}

/* __pairs of a proxy: the real table's keys, values read through the
 * proxy, so the real (writable) table never reaches the formula. */
static int proxy_pairs(lua_State *L)
{
    lua_settop(L, 1);
    luaL_getmetafield(L, 1, "__index");                   /* [proxy, real] */
    return push_sorted_pairs(L, 2, 1);
}

/* Replaces the table at the top with a read-only proxy of it. [-1, +1] */
static void push_proxy(lua_State *L, int sort_index)
{
    int real = lua_gettop(L);
    lua_newtable(L);                         /* [real, proxy] */
    lua_createtable(L, 0, 4);                /* [real, proxy, mt] */
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, sort_index);
    lua_pushcclosure(L, proxy_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);                 /* [real, proxy] */
    lua_remove(L, real);                     /* [proxy] */
}

static int setup(lua_State *L)
{
    kpi_sandbox *sb = lua_touserdata(L, 1);
    int lib;

    luaL_requiref(L, "_G", luaopen_base, 1); /* [sb, G] */
    lua_pushcfunction(L, deterministic_sort); /* [sb, G, sort] */
    int sort_index = lua_gettop(L);
    lua_newtable(L);                         /* [sb, G, sort, lib] */
    lib = lua_gettop(L);
    for (const char *const *n = base_allowed; *n; n++) {
        lua_getfield(L, 2, *n);
        lua_setfield(L, lib, *n);
    }
    lua_pushcfunction(L, safe_setmetatable);
    lua_setfield(L, lib, "setmetatable");
    lua_pushcfunction(L, deterministic_tostring);
    lua_setfield(L, lib, "tostring");
    lua_pushvalue(L, sort_index);
    lua_pushcclosure(L, deterministic_pairs, 1);
    lua_setfield(L, lib, "pairs");
    lua_pushliteral(L, LUA_VERSION);
    lua_setfield(L, lib, "_VERSION");

    for (size_t i = 0; i < sizeof libraries / sizeof libraries[0]; i++) {
        const struct library_filter *f = &libraries[i];
        luaL_requiref(L, f->name, f->open, 0); /* [..., real] */
        for (const char *const *n = f->removed; *n; n++) {
            lua_pushnil(L);
            lua_setfield(L, -2, *n);
        }
        for (size_t b = 0; b < sizeof wrapped_functions / sizeof wrapped_functions[0]; b++) {
            const struct wrapped_function *bf = &wrapped_functions[b];
            if (strcmp(bf->library, f->name))
                continue;
            lua_getfield(L, -1, bf->name);             /* [..., real, original] */
            lua_pushcclosure(L, bf->wrapper, 1);       /* [..., real, wrapper] */
            lua_setfield(L, -2, bf->name);
        }
        if (!strcmp(f->name, "string")) {
            /* Strings index the proxy; the metatable itself is hidden. */
            lua_pushliteral(L, "");
            lua_getmetatable(L, -1);           /* [..., real, "", smt] */
            lua_pushliteral(L, "locked");
            lua_setfield(L, -2, "__metatable");
            lua_pop(L, 2);                     /* [..., real] */
            push_proxy(L, sort_index);         /* [..., proxy] */
            lua_pushliteral(L, "");
            lua_getmetatable(L, -1);           /* [..., proxy, "", smt] */
            lua_pushvalue(L, -3);
            lua_setfield(L, -2, "__index");
            lua_pop(L, 2);                     /* [..., proxy] */
        } else {
            push_proxy(L, sort_index);
        }
        lua_setfield(L, lib, f->name);
    }
    sb->library_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops lib */

    /* Nothing keeps the ordinary globals: clear them, and drop the loaded
     * modules table that would still reach the real library tables. */
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        lua_pop(L, 1);                 /* [..., key] */
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, 2);              /* G[key] = nil */
    }
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    return 0;
}

/* Lua calls this on an error outside any protected call: in practice, out
 * of memory inside a host-side API call. With a guard armed it jumps back
 * to it (the state stays consistent; the caller rebuilds it); without one
 * Lua would abort the process. */
static int on_panic(lua_State *L)
{
    kpi_sandbox *sb = sandbox_of(L);
    if (sb && sb->guard)
        longjmp(*sb->guard, 1);
    return 0;
}

jmp_buf *kpi_sandbox_guard(kpi_sandbox *sb, jmp_buf *guard)
{
    jmp_buf *previous = sb->guard;
    sb->guard = guard;
    return previous;
}

/* A fresh evaluation thread; the old one, if any, is left to the garbage
 * collector without running anything (no pending __close handler runs).
 * New threads copy the main thread's extra space: the sandbox pointer. */
static void new_thread(kpi_sandbox *sb)
{
    if (sb->co)
        luaL_unref(sb->L, LUA_REGISTRYINDEX, sb->co_ref);
    sb->co = lua_newthread(sb->L);
    sb->co_ref = luaL_ref(sb->L, LUA_REGISTRYINDEX);
}

kpi_sandbox *kpi_sandbox_new(const struct kpi_sandbox_limits *limits)
{
    kpi_sandbox *volatile sb = calloc(1, sizeof *sb);
    if (!sb)
        return NULL;
    sb->limits.instructions = limits && limits->instructions ? limits->instructions
                                                             : KPI_DEFAULT_INSTRUCTIONS;
    sb->limits.memory = limits && limits->memory ? limits->memory : KPI_DEFAULT_MEMORY;
    sb->limits.seconds = limits && limits->seconds > 0 ? limits->seconds : KPI_DEFAULT_SECONDS;
    sb->library_ref = LUA_NOREF;
    sb->L = lua_newstate(sandbox_alloc, sb);
    if (!sb->L) {
        free(sb);
        return NULL;
    }
    sb->hook = count_hook;
    *(kpi_sandbox **)lua_getextraspace(sb->L) = sb;
    lua_atpanic(sb->L, on_panic);
    jmp_buf guard;
    sb->guard = &guard;
    if (setjmp(guard)) {
        sb->guard = NULL;
        kpi_sandbox_free(sb);
        return NULL;
    }
    lua_pushcfunction(sb->L, setup);
    lua_pushlightuserdata(sb->L, sb);
    if (lua_pcall(sb->L, 1, 0, 0) != LUA_OK) {
        kpi_sandbox_free(sb);
        return NULL;
    }
    new_thread(sb);
    sb->guard = NULL;
    return sb;
}

void kpi_sandbox_free(kpi_sandbox *sb)
{
    if (!sb)
        return;
    if (sb->L)
        lua_close(sb->L);
    free(sb);
}

lua_State *kpi_sandbox_state(kpi_sandbox *sb)
{
    return sb->L;
}

void kpi_sandbox_push_library(kpi_sandbox *sb, lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->library_ref);
}

int kpi_sandbox_load(kpi_sandbox *sb, const char *text, size_t len, const char *chunkname)
{
    return luaL_loadbufferx(sb->L, text, len, chunkname, "t");
}

int kpi_sandbox_call(kpi_sandbox *sb, int nargs, int nresults, enum kpi_sandbox_trip *trip)
{
    lua_State *L = sb->L, *co = sb->co;
    int status, nres = 0;

    sb->executed = 0;
    sb->since_clock = 0;
    sb->trip = KPI_TRIP_NONE;
    /* The cap is measured from a clean baseline, not from what earlier
     * evaluations left as garbage: once that garbage exceeds an eighth of
     * the limit, a full collection clears it first. */
    if (sb->used > sb->clean + sb->limits.memory / 8 || sb->used < sb->clean) {
        lua_gc(L, LUA_GCCOLLECT);
        sb->clean = sb->used;
    }
    sb->memory_cap = sb->limits.memory > SIZE_MAX - sb->clean ? SIZE_MAX
                                                              : sb->clean + sb->limits.memory;
    sb->refused = 0;
    sb->armed = true;
    sb->hook_step = HOOK_STEP;
    sb->refuse_all = false;
    sb->deadline = kpi_sandbox_cpu_now() + (int64_t)(sb->limits.seconds * 1e9);
    lua_checkstack(co, nargs + 2);
    lua_xmove(L, co, nargs + 1);                       /* fn and args to co */
    lua_sethook(co, count_hook, LUA_MASKCOUNT, HOOK_STEP);
    status = lua_resume(co, L, nargs, &nres);
    lua_sethook(co, NULL, 0, 0);
    sb->armed = false;
    sb->refuse_all = false;
    if (sb->trip == KPI_TRIP_NONE && sb->refused)
        sb->trip = KPI_TRIP_MEMORY;                    /* refused, never retried */
    if (status == LUA_OK) {
        if (nresults == LUA_MULTRET)
            nresults = nres;
        if (!lua_checkstack(L, nres > nresults ? nres : nresults)) {
            lua_settop(co, 0);
            lua_pushliteral(L, "too many results");
            status = LUA_ERRRUN;
        } else {
            lua_xmove(co, L, nres);                    /* results to L */
            for (; nres < nresults; nres++)
                lua_pushnil(L);
            if (nres > nresults)
                lua_pop(L, nres - nresults);
        }
    } else {
        /* Only the hook yields (formulas have no coroutine library). */
        if (status == LUA_YIELD) {
            status = LUA_ERRRUN;
            lua_pushstring(L, sb->trip == KPI_TRIP_MEMORY ? "memory limit exceeded"
                              : sb->trip == KPI_TRIP_TIME ? "time limit exceeded"
                                                          : "instruction limit exceeded");
        } else {
            lua_xmove(co, L, 1);                       /* the error object */
        }
        /* A thread an error or a yield left may have hooks switched off
         * or handlers pending: never reuse it. */
        new_thread(sb);
    }
    *trip = sb->trip;
    return status;
}

const struct kpi_sandbox_limits *kpi_sandbox_limits(const kpi_sandbox *sb)
{
    return &sb->limits;
}
