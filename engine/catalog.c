#include "kpieval/catalog.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "formula.h"
#include "input_file.h"

struct kpi_catalog {
    struct kpi_arena arena; /* every string of the entries */
    struct kpi_plugin_entry *entries;
    size_t n, cap;
};

static char *keep(kpi_catalog *c, const char *s, size_t n)
{
    return kpi_arena_strndup(&c->arena, s, n);
}

/* Fills e's params, description or problem from the file's first line. */
static int describe(kpi_catalog *c, struct kpi_plugin_entry *e, const char *line)
{
    size_t name_len = strlen(e->name);
    const char *p = line, *close;

    if (strncmp(p, "--", 2)) {
        e->problem = "the first line is not a '-- NAME(PARAMS): WHAT' comment";
        return 0;
    }
    p += 2 + strspn(p + 2, " \t");
    if (strncmp(p, e->name, name_len) || p[name_len] != '(' ||
        !(close = strchr(p + name_len, ')')) || close[1] != ':') {
        e->problem = "the first line does not start '-- NAME(PARAMS):' with the file's name";
        return 0;
    }
    const char *params = p + name_len + 1;
    const char *what = close + 2 + strspn(close + 2, " \t");
    size_t what_len = strlen(what);
    while (what_len && (what[what_len - 1] == ' ' || what[what_len - 1] == '\t'))
        what_len--;
    if (!(e->params = keep(c, params, (size_t)(close - params))) ||
        !(e->description = keep(c, what, what_len)))
        return -1;
    return 0;
}

/* The first line of path, without its end, into line[KPI_CATALOG_LINE_MAX]. */
static int first_line(const char *path, char *line, struct kpi_error *err)
{
    int fd = kpi_input_open(path, path, KPI_EPLUGIN, NULL, err);
    size_t len = 0;

    if (fd < 0)
        return err->code = KPI_EPLUGIN;
    while (len < KPI_CATALOG_LINE_MAX - 1) {
        ssize_t got = read(fd, line + len, KPI_CATALOG_LINE_MAX - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            return kpi_error_at(err, KPI_EPLUGIN, path, 0, 0, "%s: read error: %s", path,
                                strerror(e));
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (memchr(line, '\n', len))
            break;
    }
    close(fd);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    return 0;
}

static int add_entry(kpi_catalog *c, size_t folder, const char *dir, const char *name,
                     struct kpi_error *err)
{
    char path[4096], line[KPI_CATALOG_LINE_MAX];
    int rc;

    if ((size_t)snprintf(path, sizeof path, "%s/%s.lua", dir, name) >= sizeof path)
        return kpi_error_set(err, KPI_EPLUGIN, "%s/%s.lua: path too long", dir, name);
    if ((rc = first_line(path, line, err)))
        return rc;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct kpi_plugin_entry *ne = realloc(c->entries, ncap * sizeof *ne);
        if (!ne)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        c->entries = ne;
        c->cap = ncap;
    }
    struct kpi_plugin_entry *e = &c->entries[c->n];
    memset(e, 0, sizeof *e);
    e->folder = folder;
    e->shadowed_by = SIZE_MAX;
    if (!(e->name = keep(c, name, strlen(name))) || !(e->path = keep(c, path, strlen(path))) ||
        describe(c, e, line))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    c->n++;
    return 0;
}

/* The plugins of dir in the order a run reads them. */
static int add_folder(kpi_catalog *c, size_t folder, const char *dir, struct kpi_error *err)
{
    char **names;
    size_t n;
    int rc = kpi_formulas_list_dir(dir, &names, &n, err);

    for (size_t i = 0; i < n && !rc; i++)
        rc = add_entry(c, folder, dir, names[i], err);
    kpi_formulas_free_names(names, n);
    return rc;
}

int kpi_catalog_new(const char *const *dirs, size_t n, kpi_catalog **out, struct kpi_error *err)
{
    kpi_catalog *c = calloc(1, sizeof *c);
    int rc = 0;

    *out = NULL;
    if (!c)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    kpi_arena_init(&c->arena);
    for (size_t i = 0; i < n && !rc; i++)
        rc = add_folder(c, i, dirs[i], err);
    if (rc) {
        kpi_catalog_free(c);
        return rc;
    }
    /* The last of a name is the one a run calls: each earlier entry points
     * at it. Quadratic in the entries, a few dozen. */
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = c->n; j-- > i + 1;)
            if (!strcmp(c->entries[i].name, c->entries[j].name)) {
                c->entries[i].shadowed_by = j;
                break;
            }
    *out = c;
    return 0;
}

void kpi_catalog_free(kpi_catalog *c)
{
    if (!c)
        return;
    kpi_arena_release(&c->arena);
    free(c->entries);
    free(c);
}

const struct kpi_plugin_entry *kpi_catalog_entries(const kpi_catalog *c, size_t *n)
{
    *n = c->n;
    return c->entries;
}

bool kpi_catalog_plugin_dir(const char *dir, char *out, size_t size)
{
    char indicators[4096];
    struct stat st;

    if ((size_t)snprintf(indicators, sizeof indicators, "%s/indicators.csv", dir) >=
        sizeof indicators)
        return false;
    bool dataset = stat(indicators, &st) == 0;
    return (size_t)snprintf(out, size, dataset ? "%s/formulas" : "%s", dir) < size;
}
