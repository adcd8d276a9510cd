/*
 * references.h - the other KPIs a formula reads, found in its text without
 * running it: each call kpi_value("ID") or kpi_value('ID').
 *
 * Provides kpi_refs_scan(), over the names the formula reads (lua_names.h,
 * which skips comments and strings), so that the evaluation plan can order
 * composite KPIs before any formula runs (builder.c).
 */
#ifndef KPIEVAL_REFERENCES_H
#define KPIEVAL_REFERENCES_H

#include <stddef.h>

/* The name formulas call to read another KPI's actual. */
#define KPI_REF_FUNCTION "kpi_value"

/* What a scan found, besides the ids. */
struct kpi_refs_scan {
    size_t uses;        /* every use of the name kpi_value outside strings and comments */
    size_t not_literal; /* uses that are not a call with one quoted literal id */
};

/* Calls each(ctx, id, len) for the id of every call kpi_value("ID"),
 * kpi_value('ID'), kpi_value "ID" or kpi_value 'ID' in text, in text
 * order, repeats included (id points into text, not terminated). A use of
 * the name that is not such a call (an id that is an expression, a
 * literal with an escape or a line break, the function passed as a value,
 * a field `t.kpi_value`) is counted in not_literal. Stops when each
 * returns nonzero, and returns that; -1 when out of memory; else 0. */
int kpi_refs_scan(const char *text, struct kpi_refs_scan *found,
                  int (*each)(void *ctx, const char *id, size_t len), void *ctx);

#endif
