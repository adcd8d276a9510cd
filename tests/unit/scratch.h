/*
 * scratch.h - scratch folders and files for the unit tests.
 *
 * Provides a per-program folder under KPIEVAL_TEST_TMP (so programs run by
 * ctest -j never share files), file writing, path joining and a recursive
 * remove, and assertion macros that print what they compared. Relies on
 * POSIX, and on cmocka.h being included first for the macros. Functions
 * are static inline so each test program takes just what it uses.
 */
#ifndef KPIEVAL_TEST_SCRATCH_H
#define KPIEVAL_TEST_SCRATCH_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRATCH_PATH_MAX 1024

static inline int scratch_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf path; a missing path is fine. Returns 0 on success. */
static inline int scratch_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* out = a "/" b, aborting the test program when it does not fit. */
static inline char *scratch_join(char out[SCRATCH_PATH_MAX], const char *a, const char *b)
{
    int n = snprintf(out, SCRATCH_PATH_MAX, "%s/%s", a, b);
    if (n < 0 || n >= SCRATCH_PATH_MAX) {
        fprintf(stderr, "scratch: path too long: %s/%s\n", a, b);
        abort();
    }
    return out;
}

/* mkdir that accepts an existing folder; aborts on any other failure. */
static inline void scratch_mkdir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "scratch: mkdir %s: %s\n", path, strerror(errno));
        abort();
    }
}

/* A fresh, empty KPIEVAL_TEST_TMP/<name>/ in out. */
static inline char *scratch_fresh_dir(char out[SCRATCH_PATH_MAX], const char *name)
{
    scratch_mkdir(KPIEVAL_TEST_TMP);
    scratch_join(out, KPIEVAL_TEST_TMP, name);
    if (scratch_remove_tree(out) != 0) {
        fprintf(stderr, "scratch: cannot clear %s: %s\n", out, strerror(errno));
        abort();
    }
    scratch_mkdir(out);
    return out;
}

/* A fresh subfolder `name` of parent, in out. */
static inline char *scratch_fresh_subdir(char out[SCRATCH_PATH_MAX], const char *parent,
                                         const char *name)
{
    scratch_join(out, parent, name);
    if (scratch_remove_tree(out) != 0)
        abort();
    scratch_mkdir(out);
    return out;
}

/* Writes exactly len bytes (text may hold NULs); aborts on failure. */
static inline void scratch_write_bytes(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(bytes, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "scratch: cannot write %s\n", path);
        abort();
    }
}

static inline void scratch_write(const char *path, const char *text)
{
    scratch_write_bytes(path, text, strlen(text));
}

/* dir/name = text. */
static inline void scratch_write_in(const char *dir, const char *name, const char *text)
{
    char path[SCRATCH_PATH_MAX];
    scratch_write(scratch_join(path, dir, name), text);
}

/* A fresh dataset folder parent/name with indicators.csv and actuals.csv
 * (a NULL text leaves that file out); the folder's path in dir. */
static inline const char *scratch_dataset(char dir[SCRATCH_PATH_MAX], const char *parent,
                                          const char *name, const char *indicators,
                                          const char *actuals)
{
    scratch_fresh_subdir(dir, parent, name);
    if (indicators)
        scratch_write_in(dir, "indicators.csv", indicators);
    if (actuals)
        scratch_write_in(dir, "actuals.csv", actuals);
    return dir;
}

static inline bool scratch_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static inline bool scratch_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The whole file as a NUL-terminated malloc'd string, or NULL. */
static inline char *scratch_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, got;

    if (!f)
        return NULL;
    do {
        if (len + 4096 + 1 > cap) {
            char *nt = realloc(text, cap = cap ? cap * 2 : 8192);
            if (!nt) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = nt;
        }
        got = fread(text + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* True when haystack contains needle; both may be NULL-checked by the caller. */
static inline bool scratch_contains(const char *haystack, const char *needle)
{
    return haystack && needle && strstr(haystack, needle) != NULL;
}

static inline bool scratch_starts_with(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

/* Fails with both strings shown when needle is not in haystack. */
#define assert_contains(haystack, needle)                                                          \
    do {                                                                                           \
        const char *hay_ = (haystack), *needle_ = (needle);                                        \
        if (!scratch_contains(hay_, needle_))                                                      \
            fail_msg("expected \"%s\" in \"%s\"", needle_, hay_ ? hay_ : "(null)");                \
    } while (0)

#define assert_not_contains(haystack, needle)                                                      \
    do {                                                                                           \
        const char *hay_ = (haystack), *needle_ = (needle);                                        \
        if (scratch_contains(hay_, needle_))                                                       \
            fail_msg("did not expect \"%s\" in \"%s\"", needle_, hay_);                            \
    } while (0)

#define assert_starts_with(s, prefix)                                                              \
    do {                                                                                           \
        const char *s_ = (s), *prefix_ = (prefix);                                                 \
        if (!scratch_starts_with(s_, prefix_))                                                     \
            fail_msg("expected \"%s\" to start with \"%s\"", s_ ? s_ : "(null)", prefix_);         \
    } while (0)

/* |got - want| <= tol, with both values printed at full precision. */
#define assert_near(got, want, tol)                                                                \
    do {                                                                                           \
        double got_ = (got), want_ = (want);                                                       \
        if (!(got_ - want_ <= (tol) && want_ - got_ <= (tol)))                                     \
            fail_msg("%s = %.17g, expected %.17g", #got, got_, want_);                             \
    } while (0)

static inline int scratch_compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names in dir other than "." and "..", as one sorted "a|b|c" string (at
 * most 32 of them); aborts when dir cannot be read. */
static inline void scratch_list_dir(const char *dir, char *out, size_t size)
{
    char names[32][256];
    size_t n = 0, o = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) {
        fprintf(stderr, "scratch: cannot read %s: %s\n", dir, strerror(errno));
        abort();
    }
    while ((e = readdir(d)) && n < 32) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], scratch_compare_names);
    out[0] = '\0';
    for (size_t i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "|" : "", names[i]);
}

#endif
