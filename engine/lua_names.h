/*
 * lua_names.h - the names a Lua formula reads from its environment, found
 * by reading its text (no Lua state, nothing run).
 *
 * Provides kpi_lua_names(): each use of a name the text does not declare
 * itself (a local, a parameter, a loop variable, an assigned or table-key
 * name), with its byte offset and whether it is called (`ratio(...)`); a
 * field after '.' or ':' is no use of a name. Used by `kpieval check` to
 * resolve every name before a run, and by the formula engine to tell a
 * misspelt function from a missing input. A lexer, not a parser: comments
 * and strings are skipped exactly, scopes are not followed (a name declared
 * anywhere in the text counts as declared everywhere in it). Relies on
 * nothing. Memory: works in one allocation, freed before it returns.
 */
#ifndef KPIEVAL_LUA_NAMES_H
#define KPIEVAL_LUA_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct kpi_lua_name {
    const char *name; /* NUL-terminated, valid only during the callback */
    size_t offset;    /* of its first byte in the text */
    size_t len;
    bool call;        /* followed by '(', a string or '{' */
    bool literal_arg; /* called with one string literal: arg_offset, arg_len
                         locate its text (without the quotes) */
    size_t arg_offset, arg_len;
};

/* Calls fn for each use of an undeclared name in text, in text order,
 * every occurrence. Returns 0, or -1 when out of memory (fn may have been
 * called for some names). */
int kpi_lua_names(const char *text, void (*fn)(void *ctx, const struct kpi_lua_name *use),
                  void *ctx);

/* True when `name` is used in text, undeclared, as a called function. */
bool kpi_lua_name_is_called(const char *text, const char *name);

#endif
