/* Unit tests of the Lua sandbox: what formulas can reach, what they cannot
 * change, and the instruction and memory limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "sandbox.h"
#include "scratch.h"

/* Loads code as chunk "=test" with a fresh environment whose misses go to
 * the library (as formula environments do), calls it under the limits and
 * leaves its one result, or the error, on the stack. Returns -1 when the
 * code does not compile. Never fails the test itself, so a forked child
 * can use it. */
static int run_named(kpi_sandbox *sb, const char *code, const char *chunkname,
                     enum kpi_sandbox_trip *trip)
{
    lua_State *L = kpi_sandbox_state(sb);
    if (kpi_sandbox_load(sb, code, strlen(code), chunkname) != LUA_OK)
        return -1;
    lua_newtable(L);                 /* [fn, env] */
    lua_createtable(L, 0, 1);        /* [fn, env, mt] */
    kpi_sandbox_push_library(sb, L); /* [fn, env, mt, lib] */
    lua_setfield(L, -2, "__index");  /* [fn, env, mt] */
    lua_setmetatable(L, -2);         /* [fn, env] */
    lua_setupvalue(L, -2, 1);        /* fn's _ENV = env; [fn] */
    return kpi_sandbox_call(sb, 0, 1, trip);
}

static int run_raw(kpi_sandbox *sb, const char *code, enum kpi_sandbox_trip *trip)
{
    return run_named(sb, code, "=test", trip);
}

static int run(kpi_sandbox *sb, const char *code, enum kpi_sandbox_trip *trip)
{
    int rc = run_raw(sb, code, trip);
    if (rc < 0)
        fail_msg("'%s' does not compile: %s", code, lua_tostring(kpi_sandbox_state(sb), -1));
    return rc;
}

/* Runs code that must succeed and return a number. */
static double run_number(kpi_sandbox *sb, const char *code)
{
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    if (run(sb, code, &trip) != LUA_OK)
        fail_msg("'%s' failed: %s", code, lua_tostring(L, -1));
    assert_int_equal(trip, KPI_TRIP_NONE);
    if (lua_type(L, -1) != LUA_TNUMBER)
        fail_msg("'%s' returned a %s", code, luaL_typename(L, -1));
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Runs code that must succeed and return a string; copies it into out. */
static void run_string(kpi_sandbox *sb, const char *code, char *out, size_t size)
{
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    if (run(sb, code, &trip) != LUA_OK)
        fail_msg("'%s' failed: %s", code, lua_tostring(L, -1));
    if (lua_type(L, -1) != LUA_TSTRING)
        fail_msg("'%s' returned a %s", code, luaL_typename(L, -1));
    snprintf(out, size, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* Runs code that must raise an error; copies the message into out. */
static void run_error(kpi_sandbox *sb, const char *code, char *out, size_t size)
{
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    if (run(sb, code, &trip) == LUA_OK)
        fail_msg("'%s' succeeded, expected an error", code);
    snprintf(out, size, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
    lua_pop(L, 1);
}

static kpi_sandbox *new_sandbox(uint64_t instructions, size_t memory)
{
    struct kpi_sandbox_limits limits = {instructions, memory, 0};
    kpi_sandbox *sb = kpi_sandbox_new(&limits);
    assert_non_null(sb);
    return sb;
}

/* ---- what is there ------------------------------------------------------ */

static void test_sandbox_allowed_names_present(void **state)
{
    static const char *const names[] = {
        "assert",   "error",  "getmetatable", "ipairs", "pairs",    "pcall",
        "rawequal", "rawget", "rawlen",       "select", "setmetatable", "tonumber", "tostring",
        "type",     "xpcall", "math",         "string", "table",        "utf8",     "_VERSION",
    };
    kpi_sandbox *sb = new_sandbox(0, 0);
    lua_State *L = kpi_sandbox_state(sb);
    char s[64];
    (void)state;
    kpi_sandbox_push_library(sb, L);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (lua_getfield(L, -1, names[i]) == LUA_TNIL)
            fail_msg("'%s' is missing from the library", names[i]);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    /* The libraries work through the proxies: floor(2.5) = 2, max = 9,
     * 3 + 4 = 7 after tonumber, "a".."b" = "ab". */
    assert_int_equal(run_number(sb, "return math.floor(2.5)"), 2);
    assert_int_equal(run_number(sb, "return math.max(3, 9, 1)"), 9);
    assert_int_equal(run_number(sb, "return tonumber('3') + 4"), 7);
    assert_int_equal(run_number(sb, "return select('#', 1, 2, 3)"), 3);
    assert_int_equal(run_number(sb, "return utf8.len('경제')"), 2);
    run_string(sb, "return table.concat({'a', 'b'}, '-')", s, sizeof s);
    assert_string_equal(s, "a-b");
    run_string(sb, "return string.format('%.2f', 1.5)", s, sizeof s);
    assert_string_equal(s, "1.50");
    /* String methods reach the string library. */
    run_string(sb, "return ('ab'):rep(3)", s, sizeof s);
    assert_string_equal(s, "ababab");
    run_string(sb, "return ('KPI'):lower()", s, sizeof s);
    assert_string_equal(s, "kpi");
    /* pairs over a library table still lists its functions. */
    assert_true(run_number(sb, "local n = 0 for _ in pairs(math) do n = n + 1 end return n") >= 20);
    kpi_sandbox_free(sb);
}

static void test_sandbox_dangerous_names_absent(void **state)
{
    static const char *const globals[] = {
        "io",
        "os",
        "require",
        "load",
        "loadstring",
        "dofile",
        "loadfile",
        "collectgarbage",
        "print",
        "debug",
        "package",
        "rawset",
        /* A formula that could yield would end its evaluation early. */
        "coroutine",
    };
    static const char *const fields[] = {
        "return string.dump",
        "return math.random",
        "return math.randomseed",
        "return ('').dump",
    };
    kpi_sandbox *sb = new_sandbox(0, 0);
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    (void)state;
    kpi_sandbox_push_library(sb, L);
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        if (lua_getfield(L, -1, globals[i]) != LUA_TNIL)
            fail_msg("'%s' is in the library", globals[i]);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    /* Not reachable from code either, not even through the global table. */
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        char code[96];
        snprintf(code, sizeof code, "return %s == nil and (_G == nil or _G.%s == nil)", globals[i],
                 globals[i]);
        if (run(sb, code, &trip) != LUA_OK || !lua_toboolean(L, -1))
            fail_msg("'%s' is reachable", globals[i]);
        lua_pop(L, 1);
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (run(sb, fields[i], &trip) != LUA_OK || !lua_isnil(L, -1))
            fail_msg("'%s' is not nil", fields[i]);
        lua_pop(L, 1);
    }
    kpi_sandbox_free(sb);
}

/* ---- what cannot change ------------------------------------------------- */

static void test_sandbox_library_tables_read_only(void **state)
{
    static const char *const writes[] = {
        "math.pi = 3",           "math.floor = nil",       "string.rep = function() return 'x' end",
        "table.concat = nil",    "utf8.char = nil",        "math.newname = 1",
        "table.insert(math, 1)", "setmetatable(math, {})",
    };
    kpi_sandbox *sb = new_sandbox(0, 0);
    char msg[256], s[32];
    (void)state;
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++)
        run_error(sb, writes[i], msg, sizeof msg);
    /* Nothing changed: pi is still 3.14159..., floor and rep still work. */
    assert_true(run_number(sb, "return math.pi") > 3.14159);
    assert_int_equal(run_number(sb, "return math.floor(7.9)"), 7);
    run_string(sb, "return string.rep('y', 2)", s, sizeof s);
    assert_string_equal(s, "yy");
    assert_true(run_number(sb, "return math.newname == nil and 1 or 0") == 1);
    /* The real table behind a proxy is out of reach. */
    assert_true(run_number(sb, "return type(getmetatable(math)) ~= 'table' and 1 or 0") == 1);
    assert_true(run_number(sb, "return rawget(math, 'floor') == nil and 1 or 0") == 1);
    kpi_sandbox_free(sb);
}

static void test_sandbox_string_metatable_hidden(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    char msg[256];
    (void)state;
    /* getmetatable('') must not hand out the table itself. */
    assert_true(run_number(sb, "return type(getmetatable('')) ~= 'table' and 1 or 0") == 1);
    run_error(sb, "getmetatable('').__index = {}", msg, sizeof msg);
    run_error(sb, "setmetatable('', {})", msg, sizeof msg);
    /* And strings still work afterwards. */
    assert_int_equal(run_number(sb, "return ('abc'):len()"), 3);
    kpi_sandbox_free(sb);
}

static void test_sandbox_setmetatable_with_gc_refused(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    char msg[256];
    (void)state;
    run_error(sb, "return setmetatable({}, {__gc = function() end})", msg, sizeof msg);
    assert_contains(msg, "__gc");
    run_error(sb, "return setmetatable({}, {__gc = true})", msg, sizeof msg);
    /* Ordinary metatables are fine: __index answers 5 for any key. */
    assert_int_equal(
        run_number(sb, "return setmetatable({}, {__index = function() return 5 end}).x"), 5);
    kpi_sandbox_free(sb);
}

static void test_sandbox_chunk_name_in_messages(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    (void)state;
    assert_int_equal(run_named(sb, "local x = 1\nerror('boom')", "=KPI-3", &trip), LUA_ERRRUN);
    assert_string_equal(lua_tostring(L, -1), "KPI-3:2: boom");
    assert_int_equal(trip, KPI_TRIP_NONE); /* an ordinary error is no trip */
    lua_pop(L, 1);
    kpi_sandbox_free(sb);
}

struct bytes {
    char data[4096];
    size_t len;
};

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    struct bytes *b = ud;
    (void)L;
    if (sz > sizeof b->data - b->len)
        return 1;
    memcpy(b->data + b->len, p, sz);
    b->len += sz;
    return 0;
}

static void test_sandbox_binary_chunk_refused(void **state)
{
    /* Real bytecode, made by a separate ordinary Lua state. */
    lua_State *plain = luaL_newstate();
    static struct bytes b;
    (void)state;
    assert_non_null(plain);
    assert_int_equal(luaL_loadstring(plain, "return 42"), LUA_OK);
    assert_int_equal(lua_dump(plain, dump_writer, &b, 0), 0);
    lua_close(plain);
    const char *bytecode = b.data;
    size_t len = b.len;
    assert_true(len > 4);
    assert_memory_equal(bytecode, LUA_SIGNATURE, 4);

    kpi_sandbox *sb = new_sandbox(0, 0);
    lua_State *L = kpi_sandbox_state(sb);
    assert_int_not_equal(kpi_sandbox_load(sb, bytecode, len, "=bin"), LUA_OK);
    assert_non_null(lua_tostring(L, -1)); /* the error message */
    lua_pop(L, 1);
    kpi_sandbox_free(sb);
}

/* pairs() over a read-only library table iterates its contents but must
 * never return the real, writable table behind the proxy. */
static void test_sandbox_pairs_does_not_hand_out_library_tables(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    char out[256];
    (void)state;
    /* math.floor and friends are listed... */
    assert_true(run_number(sb, "local n = 0 for k, v in pairs(math) do n = n + 1 end return n") >
                10);
    /* ...but the state value pairs returns is not a writable table. */
    run_error(sb, "local _, m = pairs(math); m.floor = function() return 999 end; return 1", out,
              sizeof out);
    assert_int_equal(run_number(sb, "return math.floor(1.5)"), 1);
    run_error(sb, "local f, s = pairs(string); s.rep = nil; return 1", out, sizeof out);
    run_string(sb, "return ('a'):rep(3)", out, sizeof out);
    assert_string_equal(out, "aaa");
    kpi_sandbox_free(sb);
}

static void test_sandbox_close_metamethod_refused(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    char out[256];
    (void)state;
    run_error(sb,
              "local c <close> = setmetatable({}, {__close = function() while true do end end})\n"
              "error('x')",
              out, sizeof out);
    assert_non_null(strstr(out, "__close is not allowed"));
    kpi_sandbox_free(sb);
}

/* Lua seeds string hashes per state, so raw next() order differs between
 * runs; pairs() must visit keys in one fixed order. */
static void test_sandbox_pairs_order_is_fixed(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    char out[256];
    (void)state;
    /* numbers ascending, then strings by bytes, then false, true */
    run_string(sb,
               "local s = '' for k in pairs({b = 1, a = 2, [3] = 0, [1.5] = 0, c = 3,"
               " [true] = 1, [false] = 1}) do s = s .. tostring(k) .. ',' end return s",
               out, sizeof out);
    assert_string_equal(out, "1.5,3,a,b,c,false,true,");
    run_string(sb, "local f, s = pairs(math) local k = f(s, nil) return k", out, sizeof out);
    assert_string_equal(out, "abs");
    run_error(sb, "return next({})", out, sizeof out);
    kpi_sandbox_free(sb);
}

/* Addresses differ from run to run: no result may depend on them. */
static void test_sandbox_no_addresses(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 0);
    char out[256];
    (void)state;
    run_string(sb, "return tostring({})", out, sizeof out);
    assert_string_equal(out, "table");
    run_string(sb, "return tostring(print or tostring)", out, sizeof out);
    assert_string_equal(out, "function");
    run_string(sb, "return string.format('%s|%5.1f', {}, 2.25)", out, sizeof out);
    assert_string_equal(out, "table|  2.2");
    run_error(sb, "return string.format('%p', {})", out, sizeof out);
    assert_non_null(strstr(out, "'%p'"));
    /* A __tostring of the formula's own still works. */
    run_string(sb, "return tostring(setmetatable({}, {__tostring = function() return 'x' end}))",
               out, sizeof out);
    assert_string_equal(out, "x");
    kpi_sandbox_free(sb);
}

/* ---- limits --------------------------------------------------------------- */

/* Runs code in a child process so that a limit that never trips fails the
 * test instead of hanging it. The child exits 0 when the call failed (with
 * an instruction trip, when need_trip), 1 when it ended otherwise. */
static void expect_stopped(const char *code, uint64_t limit, bool need_trip)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        struct kpi_sandbox_limits limits = {limit, 0, 0};
        kpi_sandbox *sb = kpi_sandbox_new(&limits);
        enum kpi_sandbox_trip trip = KPI_TRIP_NONE;
        if (!sb)
            _exit(3);
        int rc = run_raw(sb, code, &trip);
        if (rc < 0)
            _exit(2);
        _exit(rc != LUA_OK && (!need_trip || trip == KPI_TRIP_INSTRUCTIONS) ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("'%s': no trip within 10 s (signal %d): the limit can be escaped", code,
                 WTERMSIG(status));
    if (WEXITSTATUS(status) == 2)
        fail_msg("'%s' does not compile", code);
    if (WEXITSTATUS(status) != 0)
        fail_msg("'%s': ended without %s", code, need_trip ? "an instruction trip" : "an error");
}

static void expect_instruction_trip(const char *code, uint64_t limit)
{
    expect_stopped(code, limit, true);
}

/* Runs `first`, then `second` in the same sandbox, in a child process:
 * after whatever the first did (a trip caught or not, an error), the second
 * must still trip the instruction limit. */
static void expect_second_still_limited(const char *first, const char *second)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        struct kpi_sandbox_limits limits = {100000, 1024 * 1024, 0};
        kpi_sandbox *sb = kpi_sandbox_new(&limits);
        enum kpi_sandbox_trip trip = KPI_TRIP_NONE;
        if (!sb || run_raw(sb, first, &trip) < 0)
            _exit(2);
        lua_settop(kpi_sandbox_state(sb), 0);
        int rc = run_raw(sb, second, &trip);
        _exit(rc != LUA_OK && trip == KPI_TRIP_INSTRUCTIONS ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("after '%s', '%s' ran unlimited (signal %d)", first, second, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("after '%s', '%s' ended without an instruction trip", first, second);
}

/* A limit hit by one evaluation must not switch the hook off for the next
 * (a hook that raised an error used to leave hooks disabled on the reused
 * thread). */
static void test_sandbox_limits_still_apply_after_a_trip(void **state)
{
    (void)state;
    const char *spin = "while true do end";
    expect_second_still_limited(spin, spin);
    expect_second_still_limited("while true do pcall(function() while true do end end) end",
                                "local s = 0 for i = 1, 3e8 do s = s + 1 end return s");
    expect_second_still_limited("pcall(table.sort, {3, 1, 2}, function() while true do end end)",
                                spin);
    expect_second_still_limited("return pcall(string.rep, 'a', 3e7)", spin);
    expect_second_still_limited("error('plain error')", spin);
}

static void test_sandbox_instruction_limit_trips(void **state)
{
    (void)state;
    expect_instruction_trip("while true do end", 100000);
    expect_instruction_trip("local s = 0 for i = 1, 1e12 do s = s + i end return s", 100000);
}

static void test_sandbox_instruction_limit_survives_pcall_loop(void **state)
{
    (void)state;
    /* The formula catches the limit error and carries on: it must not get
     * a fresh budget. */
    expect_instruction_trip("while true do pcall(function() while true do end end) end", 100000);
    expect_instruction_trip("local function spin() while true do end end\n"
                            "while true do pcall(spin) end",
                            100000);
    expect_instruction_trip("local function spin() while true do end end\n"
                            "while true do xpcall(spin, function(m) return m end) end",
                            100000);
    expect_instruction_trip("local n = 0\n"
                            "while true do\n"
                            "  local ok = pcall(function() for i = 1, 1e9 do n = n + 1 end end)\n"
                            "  if not ok then n = 0 end\n"
                            "end",
                            100000);
    /* The limit hit inside a callback from C (no yield possible there). */
    expect_instruction_trip("while true do\n"
                            "  pcall(table.sort, {3, 1, 2}, function(a, b) while true do end end)\n"
                            "end",
                            100000);
    expect_instruction_trip("while true do\n"
                            "  pcall(string.gsub, 'aaa', 'a', function() while true do end end)\n"
                            "end",
                            100000);
    /* A message handler that loops too. */
    expect_instruction_trip("local function spin() while true do end end\n"
                            "while true do xpcall(spin, spin) end",
                            100000);
}

static void test_sandbox_limits_bound_loops_inside_the_library(void **state)
{
    /* Loops that run inside C library functions execute no VM instructions,
     * so the count hook never sees them; an evaluation must still end (with
     * an error of some kind) rather than hang the whole run. Each of these
     * runs for hours or forever without a bound:
     * - pattern backtracking, about 30000^5 / 5! steps,
     * - 10^15 copies of the empty string (no memory grows),
     * - moving 10^12 nils inside an empty table (no memory grows).
     * A known gap (docs/security.md, "Not yet": worker processes with a
     * wall-time deadline will close it); drop this skip() then. */
    (void)state;
    skip();
    expect_stopped("return string.find(string.rep('a', 30000), '.-.-.-.-.-b')", 100000, false);
    expect_stopped("return #string.rep('', 1e15)", 100000, false);
    expect_stopped("return #table.move({}, 1, 1e12, 2)", 100000, false);
}

static void test_sandbox_instruction_limit_rearms_per_call(void **state)
{
    kpi_sandbox *sb = new_sandbox(100000, 0);
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    (void)state;
    assert_int_not_equal(run(sb, "while true do end", &trip), LUA_OK);
    assert_int_equal(trip, KPI_TRIP_INSTRUCTIONS);
    lua_pop(L, 1);
    /* A fresh call has a fresh budget: 1 + 2 + ... + 1000 = 1000 * 1001 / 2
     * = 500500, a few thousand instructions, well under 100000. */
    assert_int_equal(run_number(sb, "local s = 0 for i = 1, 1000 do s = s + i end return s"),
                     500500);
    kpi_sandbox_free(sb);
}

static void test_sandbox_memory_limit_trips_and_state_recovers(void **state)
{
    static const char *const hogs[] = {
        "return #string.rep('x', 8 * 1024 * 1024)",
        "local t = {} for i = 1, 1e7 do t[i] = i end return #t",
        "local t = {} for i = 1, 1e7 do t[#t + 1] = tostring(i) end return #t",
        "local s = 'x' while true do s = s .. s end",
        "return #table.concat({string.rep('ab', 300000), string.rep('cd', 300000)})",
    };
    /* 1 MiB of memory, and enough instructions that memory runs out first. */
    kpi_sandbox *sb = new_sandbox(1000000000, 1024 * 1024);
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    char s[32];
    (void)state;
    for (size_t i = 0; i < sizeof hogs / sizeof hogs[0]; i++) {
        int rc = run(sb, hogs[i], &trip);
        if (rc == LUA_OK || trip != KPI_TRIP_MEMORY)
            fail_msg("'%s': rc %d trip %d, expected a memory trip", hogs[i], rc, (int)trip);
        lua_pop(L, 1);
        /* The state still works after each trip. */
        run_string(sb, "return string.rep('ab', 3)", s, sizeof s);
        assert_string_equal(s, "ababab");
    }
    /* Below the limit is fine: 100 000 bytes < 1 MiB. */
    assert_int_equal(run_number(sb, "return #string.rep('x', 100000)"), 100000);
    kpi_sandbox_free(sb);
}

static void test_sandbox_memory_trip_reported_even_when_caught(void **state)
{
    kpi_sandbox *sb = new_sandbox(0, 1024 * 1024);
    lua_State *L = kpi_sandbox_state(sb);
    enum kpi_sandbox_trip trip;
    (void)state;
    int rc = run(sb, "local ok = pcall(string.rep, 'x', 1e8) return ok and 1 or 0", &trip);
    assert_int_equal(trip, KPI_TRIP_MEMORY);
    if (rc == LUA_OK)
        assert_int_equal(lua_tonumber(L, -1), 0); /* the rep itself failed */
    lua_pop(L, 1);
    kpi_sandbox_free(sb);
}

static void test_sandbox_limits_reported(void **state)
{
    kpi_sandbox *sb = new_sandbox(12345, 67890);
    (void)state;
    assert_int_equal(kpi_sandbox_limits(sb)->instructions, 12345);
    assert_int_equal(kpi_sandbox_limits(sb)->memory, 67890);
    kpi_sandbox_free(sb);
    /* Zero means the defaults. */
    sb = new_sandbox(0, 0);
    assert_int_equal(kpi_sandbox_limits(sb)->instructions, KPI_DEFAULT_INSTRUCTIONS);
    assert_int_equal(kpi_sandbox_limits(sb)->memory, KPI_DEFAULT_MEMORY);
    kpi_sandbox_free(sb);
    sb = kpi_sandbox_new(NULL);
    assert_non_null(sb);
    assert_int_equal(kpi_sandbox_limits(sb)->instructions, KPI_DEFAULT_INSTRUCTIONS);
    kpi_sandbox_free(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sandbox_allowed_names_present),
        cmocka_unit_test(test_sandbox_dangerous_names_absent),
        cmocka_unit_test(test_sandbox_library_tables_read_only),
        cmocka_unit_test(test_sandbox_string_metatable_hidden),
        cmocka_unit_test(test_sandbox_setmetatable_with_gc_refused),
        cmocka_unit_test(test_sandbox_chunk_name_in_messages),
        cmocka_unit_test(test_sandbox_binary_chunk_refused),
        cmocka_unit_test(test_sandbox_instruction_limit_trips),
        cmocka_unit_test(test_sandbox_instruction_limit_survives_pcall_loop),
        cmocka_unit_test(test_sandbox_limits_bound_loops_inside_the_library),
        cmocka_unit_test(test_sandbox_instruction_limit_rearms_per_call),
        cmocka_unit_test(test_sandbox_memory_limit_trips_and_state_recovers),
        cmocka_unit_test(test_sandbox_memory_trip_reported_even_when_caught),
        cmocka_unit_test(test_sandbox_limits_reported),
        cmocka_unit_test(test_sandbox_limits_still_apply_after_a_trip),
        cmocka_unit_test(test_sandbox_pairs_does_not_hand_out_library_tables),
        cmocka_unit_test(test_sandbox_close_metamethod_refused),
        cmocka_unit_test(test_sandbox_no_addresses),
        cmocka_unit_test(test_sandbox_pairs_order_is_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
