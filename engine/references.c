#include "references.h"

#include <stdbool.h>
#include <string.h>

#include "lua_names.h"

struct scan {
    const char *text;
    struct kpi_refs_scan *found;
    int (*each)(void *ctx, const char *id, size_t len);
    void *ctx;
    int rc;
};

/* One use of a name (lua_names.h): kpi_value called with one plain quoted
 * literal is a reference; any other use of the name is counted. */
static void on_name(void *ctx, const struct kpi_lua_name *use)
{
    struct scan *s = ctx;

    if (s->rc || strcmp(use->name, KPI_REF_FUNCTION))
        return;
    s->found->uses++;
    const char *id = s->text + use->arg_offset;
    bool plain = use->call && use->literal_arg && use->arg_offset > 0 &&
                 (id[-1] == '"' || id[-1] == '\'') && id[use->arg_len] == id[-1] &&
                 !memchr(id, '\\', use->arg_len);
    if (!plain)
        s->found->not_literal++;
    else
        s->rc = s->each(s->ctx, id, use->arg_len);
}

int kpi_refs_scan(const char *text, struct kpi_refs_scan *found,
                  int (*each)(void *ctx, const char *id, size_t len), void *ctx)
{
    struct scan s = {text, found, each, ctx, 0};

    found->uses = found->not_literal = 0;
    if (kpi_lua_names(text, on_name, &s))
        return -1;
    return s.rc;
}
