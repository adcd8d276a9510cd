/*
 * sandbox.h - one Lua state made safe to run analysts' formulas, reused for
 * every KPI.
 *
 * Provides kpi_sandbox (opaque; _new/_free): a state with only the allowed
 * library (docs/security.md), the shared tables behind read-only proxies,
 * the string metatable locked, and per-evaluation limits (an instruction
 * count hook that keeps failing once tripped, a memory cap). Relies on Lua
 * 5.4's C API. Memory: the sandbox owns its lua_State.
 */
#ifndef KPIEVAL_SANDBOX_H
#define KPIEVAL_SANDBOX_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "kpieval/result.h"

typedef struct kpi_sandbox kpi_sandbox;

struct kpi_sandbox_limits {
    uint64_t instructions; /* VM instructions per evaluation */
    size_t memory;         /* bytes the state may grow by during one evaluation */
    double seconds;        /* CPU time per evaluation, checked every 1000 instructions */
};


/* Why the last protected call failed. */
enum kpi_sandbox_trip {
    KPI_TRIP_NONE,
    KPI_TRIP_INSTRUCTIONS,
    KPI_TRIP_MEMORY,
    KPI_TRIP_TIME
};

/* Nanoseconds of CLOCK_MONOTONIC. */
int64_t kpi_sandbox_now(void);

/* Nanoseconds of CPU time of the calling thread: what the time limit
 * measures, so that a busy machine does not stop ordinary formulas. */
int64_t kpi_sandbox_cpu_now(void);

/* A new sandbox, or NULL when out of memory. */
kpi_sandbox *kpi_sandbox_new(const struct kpi_sandbox_limits *limits);
void kpi_sandbox_free(kpi_sandbox *sb);

lua_State *kpi_sandbox_state(kpi_sandbox *sb);

/* Pushes the table of allowed global names onto L, the main state or the
 * evaluation thread a callback runs in. [-0, +1] */
void kpi_sandbox_push_library(kpi_sandbox *sb, lua_State *L);

/* Loads text as a chunk named chunkname; text only, never bytecode.
 * Pushes the function, or the error message when it returns non-zero. */
int kpi_sandbox_load(kpi_sandbox *sb, const char *text, size_t len, const char *chunkname);

/* lua_pcall under the limits: the hook and memory cap are armed for the
 * call and disarmed after it. Returns the lua_pcall status; *trip tells
 * whether a limit was hit, even when the code caught the error itself. */
int kpi_sandbox_call(kpi_sandbox *sb, int nargs, int nresults, enum kpi_sandbox_trip *trip);

/* Arms a guard: a Lua error outside any protected call (out of memory in
 * a host-side API call) longjmps to it instead of aborting. Returns the
 * previous guard, to restore afterwards. After a jump the state is not to
 * be trusted: rebuild it. */
jmp_buf *kpi_sandbox_guard(kpi_sandbox *sb, jmp_buf *guard);

/* The limits in force. */
const struct kpi_sandbox_limits *kpi_sandbox_limits(const kpi_sandbox *sb);

#endif
