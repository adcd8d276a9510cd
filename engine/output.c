#include "kpieval/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "writers.h"

/* The reports a run can write (--reports picks some), in the order they
 * are written; shard.txt comes last because it records where the others
 * put each block. */
static const struct kpi_writer writers[] = {
    {"kpis.csv", kpi_write_kpis_csv, true},
    {"departments.csv", kpi_write_departments_csv, true},
    {"departments/", kpi_write_department_files, true},
    {"report.json", kpi_write_report_json, true},
    {"shard.txt", kpi_write_shard_manifest, false}, /* partial reports only */
    {KPI_REPORT_MARKER, kpi_write_marker, false},
};

int kpi_write_marker(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    FILE *f = kpi_output_open(dir, KPI_REPORT_MARKER, err);
    (void)rep;
    if (!f)
        return err ? err->code : KPI_EIO;
    fputs("kpieval report folder: kpieval replaces it whole on the next run\n", f);
    return kpi_output_close(f, KPI_REPORT_MARKER, err);
}

int kpi_report_select(const char *list, unsigned *mask, struct kpi_error *err)
{
    *mask = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        for (; i < sizeof writers / sizeof writers[0]; i++) {
            size_t wl = strlen(writers[i].name);
            bool dir = writers[i].name[wl - 1] == '/';
            if (writers[i].optional &&
                ((len == wl && !strncmp(p, writers[i].name, len)) ||
                 (dir && len == wl - 1 && !strncmp(p, writers[i].name, len))))
                break;
        }
        if (i == sizeof writers / sizeof writers[0])
            return kpi_error_set(err, KPI_EUSAGE,
                                 "--reports: unknown report '%.*s'; choose from kpis.csv, "
                                 "departments.csv, departments/, report.json",
                                 (int)(len > 64 ? 64 : len), p);
        *mask |= 1u << i;
        p += len;
        if (*p == ',' && !*++p)
            return kpi_error_set(err, KPI_EUSAGE, "--reports: trailing ','");
    }
    if (!*mask)
        return kpi_error_set(err, KPI_EUSAGE, "--reports: no report named");
    return 0;
}

const struct kpi_writer *kpi_report_writers(size_t *n)
{
    *n = sizeof writers / sizeof writers[0];
    return writers;
}

FILE *kpi_output_open(const char *dir, const char *name, struct kpi_error *err)
{
    char path[4096];
    FILE *f;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        kpi_error_set(err, KPI_EIO, "%s/%s: path too long", dir, name);
        return NULL;
    }
    f = fopen(path, "wb");
    if (!f) {
        kpi_error_set(err, KPI_EIO, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
}

int kpi_output_close(FILE *f, const char *name, struct kpi_error *err)
{
    /* Flushed here; synced all at once by kpi_report_write (syncfs). */
    int failed = ferror(f) || fflush(f) != 0;
    int saved = errno;
    failed |= fclose(f) != 0;
    if (failed)
        return kpi_error_set(err, KPI_EIO, "%s: write failed: %s", name,
                             strerror(saved ? saved : errno));
    return 0;
}

void kpi_report_department_file(const struct kpi_department *d, size_t i, char *buf, size_t size)
{
    const size_t name_max = 150; /* bytes: well under any file system's limit */
    const unsigned char *p = (const unsigned char *)d->path;
    size_t o = (size_t)snprintf(buf, size, "%03zu-", i + 1);

    if (o >= size)
        o = size - 1;
    /* Whole characters only, leaving room for ".csv" and the NUL. */
    while (*p) {
        size_t n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        if (o >= name_max || o + n + sizeof ".csv" > size)
            break;
        /* Not the C1 controls U+0080..U+009F (C2 80..C2 9F): a file name
         * is shown by ls and shells as it is. */
        bool keep = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_' || *p == '.' ||
                    (*p >= 0x80 && !(*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0));
        if (!keep)
            buf[o++] = '_';
        for (size_t k = 0; keep && k < n && p[k]; k++)
            buf[o++] = (char)p[k];
        for (size_t k = 0; k < n && *p; k++)
            p++;
    }
    snprintf(buf + o, size - o, ".csv");
}

/* ---- folders ------------------------------------------------------------ */

/* Removes the entries of the open folder fd, recursively. Uses no heap
 * (getdents64 into a stack buffer), so a failed run can clean up its
 * staging folder even when it failed for want of memory. */
static int empty_dir_at(int fd, int depth)
{
    char buf[4096];
    int rc = 0;

    if (depth > 64)
        return -1;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        int removed = 0;
        if (n <= 0)
            return n < 0 ? -1 : rc;
        for (long off = 0; off < n;) {
            struct linux_dirent64 {
                unsigned long long d_ino;
                long long d_off;
                unsigned short d_reclen;
                unsigned char d_type;
                char d_name[];
            } *e = (struct linux_dirent64 *)(buf + off);
            off += e->d_reclen;
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if (unlinkat(fd, e->d_name, 0) == 0) {
                removed++;
                continue;
            }
            int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (sub < 0) {
                rc = -1;
                continue;
            }
            if (empty_dir_at(sub, depth + 1) != 0)
                rc = -1;
            close(sub);
            if (unlinkat(fd, e->d_name, AT_REMOVEDIR) != 0)
                rc = -1;
            else
                removed++;
        }
        /* Entries were removed while reading: start over from the top,
         * unless this pass could remove nothing more. */
        if (!removed)
            return rc;
        lseek(fd, 0, SEEK_SET);
    }
}

static int remove_tree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : unlink(path);
    int rc = empty_dir_at(fd, 0);
    close(fd);
    return rmdir(path) == 0 ? rc : -1;
}

/* mkdir -p for the folders above path. */
int kpi_report_make_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* fsync of a folder, or with whole_fs, of the file system holding it: one
 * syncfs puts every report file on disk at once, far cheaper than one
 * fsync per file when there are thousands of department files. */
static int sync_dir(const char *path, bool whole_fs)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = whole_fs ? syncfs(fd) : fsync(fd);
    close(fd);
    return rc;
}

/* True for exactly what kpi_report_stage and _commit make beside OUT:
 * OUT + kind + the six characters of mkdtemp. The names are specific, so
 * a user's own "OUT.old-backup" is never taken for one. */
static bool is_leftover(const char *name, const char *base, size_t blen, const char *kind)
{
    size_t klen = strlen(kind);
    return !strncmp(name, base, blen) && !strncmp(name + blen, kind, klen) &&
           strlen(name + blen + klen) == 6;
}

int kpi_report_remove_stale(const char *out_dir)
{
    char parent[4096], path[4400], report[4400];
    const char *base = strrchr(out_dir, '/');
    size_t blen;
    DIR *d;
    struct dirent *e;
    int removed = 0;

    if (base) {
        snprintf(parent, sizeof parent, "%.*s", (int)(base - out_dir), out_dir);
        if (!*parent)
            snprintf(parent, sizeof parent, "/");
        base++;
    } else {
        snprintf(parent, sizeof parent, ".");
        base = out_dir;
    }
    blen = strlen(base);
    if (!(d = opendir(parent)))
        return 0;
    /* Without an atomic exchange, a run moves the old report to
     * OUT.kpieval-old-XXXXXX before moving the new one in: killed in
     * between, it leaves no OUT. A complete report (its marker is written
     * last) is put back first. */
    if (access(out_dir, F_OK) != 0 && errno == ENOENT) {
        while ((e = readdir(d))) {
            if (!is_leftover(e->d_name, base, blen, ".kpieval-old-"))
                continue;
            snprintf(path, sizeof path, "%s/%s/" KPI_REPORT_MARKER, parent, e->d_name);
            snprintf(report, sizeof report, "%s/%s/report.json", parent, e->d_name);
            if (access(path, F_OK) != 0 && access(report, F_OK) != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
            if (rename(path, out_dir) == 0)
                break;
        }
        rewinddir(d);
    }
    while ((e = readdir(d))) {
        if (!is_leftover(e->d_name, base, blen, ".kpieval-tmp-") &&
            !is_leftover(e->d_name, base, blen, ".kpieval-old-"))
            continue;
        snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
        if (remove_tree(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int kpi_report_check_target(const char *out_arg, struct kpi_error *err)
{
    char out_dir[KPI_PATH_MAX], real[PATH_MAX];
    struct stat st;
    DIR *d;
    struct dirent *e;
    bool empty = true, has_report = false;

    if (!*out_arg)
        return kpi_error_set(err, KPI_EUSAGE, "--out: empty folder name");
    if (kpi_report_normalize(out_arg, out_dir))
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", out_arg);
    /* A link would be replaced by the new report while the old one stayed
     * at its target; and the staging folder and lock go beside the link. */
    if (lstat(out_dir, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (realpath(out_dir, real))
            return kpi_error_set(err, KPI_EUSAGE,
                                 "%s: a symbolic link; pass the real path as --out ('%s')", out_dir,
                                 real);
        return kpi_error_set(err, KPI_EUSAGE, "%s: a symbolic link; pass the real path as --out",
                             out_dir);
    }
    if (stat(out_dir, &st) != 0)
        return errno == ENOENT ? 0
                               : kpi_error_set(err, KPI_EUSAGE, "%s: cannot use as the output folder: %s",
                                               out_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return kpi_error_set(err, KPI_EUSAGE, "%s: exists and is not a folder", out_dir);
    d = opendir(out_dir);
    if (!d)
        return kpi_error_set(err, KPI_EUSAGE, "%s: cannot read: %s", out_dir, strerror(errno));
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        empty = false;
        has_report |= !strcmp(e->d_name, "report.json") || !strcmp(e->d_name, KPI_REPORT_MARKER);
    }
    closedir(d);
    if (!empty && !has_report)
        return kpi_error_set(err, KPI_EUSAGE,
                             "%s: exists and is not a kpieval report folder (no report.json); "
                             "refusing to replace it",
                             out_dir);
    return 0;
}

int kpi_report_normalize(const char *path, char out[KPI_PATH_MAX])
{
    if ((size_t)snprintf(out, KPI_PATH_MAX, "%s", path) >= KPI_PATH_MAX - 32)
        return -1;
    for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
        out[n - 1] = '\0';
    return 0;
}

int kpi_report_stage(const char *out_arg, char out_dir[KPI_PATH_MAX],
                     char staging[KPI_PATH_MAX], struct kpi_error *err)
{
    int rc;

    /* "out/" is "out": the staging folder goes beside it, not inside. */
    if (kpi_report_normalize(out_arg, out_dir))
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", out_arg);
    rc = kpi_report_check_target(out_dir, err);
    if (rc)
        return rc;
    if (kpi_report_make_parents(out_dir) != 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create the folders above it: %s", out_dir,
                             strerror(errno));
    snprintf(staging, KPI_PATH_MAX, "%s.kpieval-tmp-XXXXXX", out_dir);
    if (!mkdtemp(staging))
        return kpi_error_set(err, KPI_EIO, "%s: cannot create a staging folder beside it: %s",
                             out_dir, strerror(errno));
    chmod(staging, 0755);
    return 0;
}

void kpi_report_discard(const char *staging)
{
    remove_tree(staging);
}

int kpi_report_commit(const char *staging, const char *out_dir, struct kpi_error *err)
{
    char old[KPI_PATH_MAX + 16], parent[KPI_PATH_MAX];
    struct stat st;
    int rc;

    if (sync_dir(staging, true) != 0) {
        rc = kpi_error_set(err, KPI_EIO, "%s: sync failed: %s", staging, strerror(errno));
        goto fail;
    }
    if (stat(out_dir, &st) != 0) {
        if (rename(staging, out_dir) != 0) {
            rc = kpi_error_set(err, KPI_EIO, "%s: cannot rename the staging folder: %s", out_dir,
                               strerror(errno));
            goto fail;
        }
    } else if (renameat2(AT_FDCWD, staging, AT_FDCWD, out_dir, RENAME_EXCHANGE) == 0) {
        remove_tree(staging); /* now holds the previous report */
    } else {
        /* No atomic exchange here (old kernel or file system): move the old
         * report aside first; the gap between the renames is tiny. */
        snprintf(old, sizeof old, "%s.kpieval-old-XXXXXX", out_dir);
        if (!mkdtemp(old) || rmdir(old) != 0 || rename(out_dir, old) != 0) {
            rc = kpi_error_set(err, KPI_EIO, "%s: cannot move the previous report aside: %s",
                               out_dir, strerror(errno));
            goto fail;
        }
        if (rename(staging, out_dir) != 0) {
            rc = kpi_error_set(err, KPI_EIO, "%s: cannot rename the staging folder: %s", out_dir,
                               strerror(errno));
            rename(old, out_dir);
            goto fail;
        }
        remove_tree(old);
    }
    snprintf(parent, sizeof parent, "%s", out_dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else if (!slash)
        snprintf(parent, sizeof parent, ".");
    sync_dir(parent, false);
    return 0;
fail:
    remove_tree(staging);
    return rc;
}

/* ---- writing the reports in parallel ------------------------------------ */

#define WRITERS_MAX 8

/* The reports are independent of each other, so each is written by the
 * first free thread; the biggest go first. */
struct write_job {
    const struct kpi_report *rep;
    const char *dir;
    const struct kpi_writer *w[WRITERS_MAX];
    size_t n;
    atomic_size_t next;
    atomic_int failed;
    int rc[WRITERS_MAX];
    struct kpi_error err[WRITERS_MAX];
};

static void *write_some(void *arg)
{
    struct write_job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(&j->failed))
            break;
        j->rc[i] = j->w[i]->write(j->rep, j->dir, &j->err[i]);
        if (j->rc[i])
            atomic_store(&j->failed, 1);
    }
    return NULL;
}

static int write_all(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    size_t n_writers, n_threads = rep->params->threads ? rep->params->threads : 1;
    const struct kpi_writer *w = kpi_report_writers(&n_writers);
    struct write_job *j = calloc(1, sizeof *j);
    pthread_t threads[WRITERS_MAX];
    size_t started = 0;
    int rc = 0;

    if (!j)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    j->rep = rep;
    j->dir = dir;
    atomic_init(&j->next, 0);
    atomic_init(&j->failed, 0);
    /* The selected reports, the table's last (largest) first. */
    for (size_t i = n_writers; i-- > 0;)
        if (w[i].optional && (!rep->params->reports || (rep->params->reports & (1u << i))))
            j->w[j->n++] = &w[i];
    if (n_threads > j->n)
        n_threads = j->n;
    for (size_t t = 1; t < n_threads; t++) {
        if (pthread_create(&threads[started], NULL, write_some, j) != 0)
            break; /* fewer threads; this one still does the rest */
        started++;
    }
    write_some(j);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    for (size_t i = 0; i < j->n && !rc; i++) {
        if (j->rc[i]) {
            rc = j->rc[i];
            if (err)
                *err = j->err[i];
        }
    }
    /* Then what describes the others: shard.txt (their offsets), the marker. */
    for (size_t i = 0; i < n_writers && !rc; i++)
        if (!w[i].optional)
            rc = w[i].write(rep, dir, err);
    free(j);
    return rc;
}

int kpi_report_write(const struct kpi_report *rep_in, const char *out_arg, struct kpi_error *err)
{
    char out_dir[KPI_PATH_MAX], staging[KPI_PATH_MAX];
    struct kpi_report rep = *rep_in;
    struct kpi_shard_layout layout = {NULL, 0, 0, 0};
    int rc;

    if (rep.params->shard_count) {
        if (kpi_shard_layout_build(rep.ds, &layout))
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
        rep.layout = &layout;
    }
    rc = kpi_report_stage(out_arg, out_dir, staging, err);
    if (rc)
        goto out;
    rc = write_all(&rep, staging, err);
    if (rc)
        kpi_report_discard(staging);
    else
        rc = kpi_report_commit(staging, out_dir, err);
out:
    free(layout.blocks);
    return rc;
}
