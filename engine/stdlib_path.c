#include "stdlib_path.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input_file.h"

/* The standard formulas folder relative to the folder of the installed
 * executable; CMakeLists.txt passes it from GNUInstallDirs (bindir to
 * datadir/kpieval/formulas), so a configured layout is followed. */
#ifndef KPIEVAL_STDLIB_FROM_BIN
#define KPIEVAL_STDLIB_FROM_BIN "../share/kpieval/formulas"
#endif

/* Drops the last component of an absolute path; the root is "". */
static void drop_last(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash)
        *slash = '\0';
}

/* dir joined with rel, each leading "../" of rel taking a component off dir,
 * so the path reads /p/share/... rather than /p/bin/../share/... (it is
 * recorded in report.json). false when it does not fit. */
static bool join(char *out, size_t size, const char *dir, const char *rel)
{
    char base[KPI_STDLIB_PATH_MAX];
    int n;

    if (rel[0] == '/') {
        n = snprintf(out, size, "%s", rel);
        return n >= 0 && (size_t)n < size;
    }
    n = snprintf(base, sizeof base, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof base)
        return false;
    while (!strncmp(rel, "../", 3)) {
        drop_last(base);
        rel += 3;
    }
    n = snprintf(out, size, "%s/%s", base, rel);
    return n >= 0 && (size_t)n < size;
}

static struct kpi_stdlib_place *add_place(struct kpi_stdlib *s, const char *what)
{
    assert(s->n_places < KPI_STDLIB_PLACES_MAX);
    struct kpi_stdlib_place *p = &s->place[s->n_places++];
    p->path[0] = '\0';
    p->what = what;
    p->reason[0] = '\0';
    return p;
}

static void set_reason(struct kpi_stdlib_place *p, const char *reason)
{
    snprintf(p->reason, sizeof p->reason, "%s", reason);
}

/* True when p->path is a folder (links followed: a packager may link it);
 * otherwise says why in p->reason. */
static bool is_folder(struct kpi_stdlib_place *p)
{
    struct stat st;
    if (stat(p->path, &st) != 0) {
        set_reason(p, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        set_reason(p, "not a folder");
        return false;
    }
    return true;
}

/* Reads the build tree's marker at marker_path into p->path: the absolute
 * path of the source tree's formulas/. false with p->reason when absent or
 * unusable. */
static bool read_marker(struct kpi_stdlib_place *p, const char *marker_path)
{
    struct kpi_error err;
    char text[KPI_STDLIB_PATH_MAX + 1];
    size_t len = 0;
    ssize_t n;
    bool ok = false;

    int fd = kpi_input_open(marker_path, marker_path, KPI_EPLUGIN, NULL, &err);
    if (fd < 0) {
        set_reason(p, fd == KPI_EIO ? strerror(errno) : "not a regular file");
        return false;
    }
    while (len < sizeof text && (n = read(fd, text + len, sizeof text - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            set_reason(p, strerror(errno));
            goto out;
        }
        len += (size_t)n;
    }
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len == 0 || len >= KPI_STDLIB_PATH_MAX || text[0] != '/' || memchr(text, '\0', len) ||
        memchr(text, '\n', len)) {
        set_reason(p, "not one absolute path");
        goto out;
    }
    memcpy(p->path, text, len);
    p->path[len] = '\0';
    ok = true;
out:
    close(fd);
    return ok;
}

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    if (*len >= size - 1)
        return; /* full: the message is cut short, as snprintf cuts it */
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = (size_t)n < size - *len ? *len + (size_t)n : size - 1;
}

static int not_found(struct kpi_stdlib *s, bool from_env)
{
    char *msg = s->error.message;
    size_t size = sizeof s->error.message, len = 0;

    s->dir = NULL;
    append(msg, size, &len, "standard formulas not found; looked in");
    for (size_t i = 0; i < s->n_places; i++)
        append(msg, size, &len, "%s '%s' (%s): %s", i ? "," : "", s->place[i].path,
               s->place[i].what, s->place[i].reason);
    if (from_env)
        append(msg, size, &len,
               "; set " KPI_STDLIB_ENV " to the folder holding ratio.lua and the other "
               "standard formulas, or unset it to use the installed ones");
    else
        append(msg, size, &len,
               "; reinstall kpieval, or set " KPI_STDLIB_ENV " to the folder holding "
               "ratio.lua and the other standard formulas");
    s->error.code = KPI_EPLUGIN;
    return KPI_EPLUGIN;
}

int kpi_stdlib_find(const char *env_dir, const char *exe, struct kpi_stdlib *s)
{
    char self[KPI_STDLIB_PATH_MAX], bin_dir[KPI_STDLIB_PATH_MAX];
    struct kpi_stdlib_place *p;

    s->dir = NULL;
    s->n_places = 0;
    memset(&s->error, 0, sizeof s->error); /* no place, KPI or setting either */

    if (env_dir && *env_dir) {
        p = add_place(s, KPI_STDLIB_ENV);
        snprintf(p->path, sizeof p->path, "%s", env_dir);
        if (strlen(env_dir) >= sizeof p->path)
            set_reason(p, "path too long");
        else if (is_folder(p))
            s->dir = p->path;
        return s->dir ? 0 : not_found(s, true);
    }

    if (!exe) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self);
        if (n < 0 || (size_t)n >= sizeof self) {
            p = add_place(s, "the running executable, to find the installed layout");
            snprintf(p->path, sizeof p->path, "/proc/self/exe");
            set_reason(p, n < 0 ? strerror(errno) : "path too long");
            return not_found(s, false);
        }
        self[n] = '\0';
        exe = self;
    }
    snprintf(bin_dir, sizeof bin_dir, "%s", exe);
    drop_last(bin_dir);

    /* Installed: <prefix>/bin/kpieval finds <prefix>/share/kpieval/formulas,
     * wherever the prefix has been moved. */
    p = add_place(s, "installed, relative to the executable");
    if (exe[0] != '/') {
        snprintf(p->path, sizeof p->path, "%s", exe);
        set_reason(p, "the executable's path is not absolute");
    } else if (!join(p->path, sizeof p->path, bin_dir, KPIEVAL_STDLIB_FROM_BIN)) {
        set_reason(p, "path too long");
    } else if (is_folder(p)) {
        s->dir = p->path;
        return 0;
    }

    /* Run from its build tree: the marker beside the binary names the
     * sources' formulas/. Tried last, so an install never reads a source
     * tree, and the binary itself holds no source path. */
    char marker[KPI_STDLIB_PATH_MAX];
    p = add_place(s, "the build tree's marker, present only beside a built binary");
    if (!join(marker, sizeof marker, bin_dir, KPI_STDLIB_MARKER)) {
        set_reason(p, "path too long");
    } else if (!read_marker(p, marker)) {
        snprintf(p->path, sizeof p->path, "%s", marker);
    } else {
        p->what = "the sources of this build tree, named by " KPI_STDLIB_MARKER;
        if (is_folder(p)) {
            s->dir = p->path;
            return 0;
        }
    }
    return not_found(s, false);
}
