/*
 * outdir.c - the output folder's transaction: its name, the folders above
 * it, the lock, the staging folder, the swap, and the cleanup after runs
 * that were killed. Nothing here knows what a report holds.
 *
 * A run that fails creates nothing: the folders above OUT that the lock
 * had to make are removed again on unlock when they are still empty (on
 * success OUT is in them, so they stay).
 */
#include "kpieval/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

int kpi_outdir_make_parents(const char *path, unsigned *made)
{
    char buf[KPI_PATH_MAX];
    unsigned n = 0;

    if (made)
        *made = 0;
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* From the top down: each level made counts, the ones that existed
     * (or that a concurrent run made first) do not. */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) == 0) {
            n++;
        } else if (errno != EEXIST) {
            /* Made nothing, as far as the caller can tell: the levels
             * made so far are the deepest ones above this one (a level
             * too long for the file system, say, below a new folder). */
            int saved = errno;
            while (n--) {
                char *slash = strrchr(buf, '/');
                if (!slash || slash == buf)
                    break;
                *slash = '\0';
                if (rmdir(buf) != 0)
                    break;
            }
            errno = saved;
            return -1;
        }
        *p = '/';
    }
    if (made)
        *made = n;
    return 0;
}

/* Removes the `levels` folders right above path, deepest first, while they
 * are empty: what kpi_outdir_make_parents(path) made. rmdir refuses a
 * folder that holds anything (the report, another run's lock), so a
 * folder in use is never lost. */
static void remove_parents(const char *path, unsigned levels)
{
    char buf[KPI_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    while (levels--) {
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return;
        *slash = '\0';
        if (rmdir(buf) != 0)
            return;
    }
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

/* True for exactly what kpi_outdir_stage and _commit make beside OUT:
 * OUT + kind + the six characters of mkdtemp. The names are specific, so
 * a user's own "OUT.old-backup" is never taken for one. */
static bool is_leftover(const char *name, const char *base, size_t blen, const char *kind)
{
    size_t klen = strlen(kind);
    return !strncmp(name, base, blen) && !strncmp(name + blen, kind, klen) &&
           strlen(name + blen + klen) == 6;
}

int kpi_outdir_remove_stale(const char *out_dir)
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

int kpi_outdir_check(const char *out_arg, struct kpi_error *err)
{
    char out_dir[KPI_PATH_MAX], real[PATH_MAX];
    struct stat st;
    DIR *d;
    struct dirent *e;
    bool empty = true, has_report = false;
    int rc;

    if ((rc = kpi_outdir_normalize(out_arg, out_dir, err)))
        return rc;
    /* A link would be replaced by the new report while the old one stayed
     * at its target; and the staging folder and lock go beside the link. */
    if (lstat(out_dir, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (realpath(out_dir, real))
            kpi_error_set(err, KPI_EUSAGE,
                          "%s: a symbolic link; name the real path as the output folder ('%s')",
                          out_dir, real);
        else
            kpi_error_set(err, KPI_EUSAGE,
                          "%s: a symbolic link; name the real path as the output folder", out_dir);
        return kpi_error_setting(err, KPI_EUSAGE, KPI_SETTING_OUT);
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

int kpi_outdir_normalize(const char *path, char out[KPI_PATH_MAX], struct kpi_error *err)
{
    const char *last;

    if (!*path)
        return kpi_error_set(err, KPI_EUSAGE, "empty output folder name");
    if ((size_t)snprintf(out, KPI_PATH_MAX, "%s", path) >= KPI_PATH_MAX - 32)
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", path);
    for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
        out[n - 1] = '\0';
    /* "x/." and "x/.." name a folder by a name that the lock and the
     * staging folder cannot be put beside (they would go inside, under
     * another lock than "x"'s), and that cannot be swapped. */
    last = strrchr(out, '/');
    last = last ? last + 1 : out;
    if (!strcmp(last, ".") || !strcmp(last, ".."))
        return kpi_error_set(err, KPI_EUSAGE,
                             "%s: name the output folder itself, not '.' or '..'", path);
    return 0;
}

int kpi_outdir_stage(const char *out_arg, char out_dir[KPI_PATH_MAX],
                     char staging[KPI_PATH_MAX], struct kpi_error *err)
{
    int rc;

    /* "out/" is "out": the staging folder goes beside it, not inside. */
    if ((rc = kpi_outdir_normalize(out_arg, out_dir, err)))
        return rc;
    rc = kpi_outdir_check(out_dir, err);
    if (rc)
        return rc;
    if (kpi_outdir_make_parents(out_dir, NULL) != 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create the folders above it: %s", out_dir,
                             strerror(errno));
    snprintf(staging, KPI_PATH_MAX, "%s.kpieval-tmp-XXXXXX", out_dir);
    if (!mkdtemp(staging))
        return kpi_error_set(err, KPI_EIO, "%s: cannot create a staging folder beside it: %s",
                             out_dir, strerror(errno));
    chmod(staging, 0755);
    return 0;
}

void kpi_outdir_discard(const char *staging)
{
    remove_tree(staging);
}

int kpi_outdir_commit(const char *staging, const char *out_dir, struct kpi_error *err)
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

/* ---- the lock ----------------------------------------------------------
 *
 * The lock: one run at a time writes a report folder; a second one fails
 * at once naming the first, or waits.
 *
 * The lock is an flock(2) on OUT.lock beside OUT (where the staging folders
 * go too), so the kernel releases it when a run dies, however it dies. The
 * file holds a signature line and the owner's PID and start time, for the
 * message and to know the file for kpieval's own.
 *
 * A run writes into and removes only a lock file that it made, or one that
 * a dead run made. It makes the file whole: written and locked before the
 * name appears (an O_TMPFILE linked in; where that is missing, O_EXCL and
 * the lock at once). An existing OUT.lock is taken over only when it is a
 * regular file with one name, holding exactly what kpieval writes, and
 * nobody holds its flock: then it is removed and made again. Anything else
 * in the way (a user's file, a hard link to one, a symbolic link, a FIFO)
 * is refused and left as it is. The owner removes the file on release,
 * after checking that the name still is its file; a run that finds the
 * file replaced between its open and its flock starts over.
 */

#define SIGNATURE   "kpieval-lock 1\n"
#define TEXT_MAX    128 /* bytes: a lock file kpieval writes is shorter */
#define EMPTY_TRIES 50  /* times 20 ms: how long an empty file may be a run starting */
#define TWIN_SUFFIX ".XXXXXX" /* mkostemp: OUT.lock.XXXXXX, a lock file being made */

/* The owner line ("pid N, started T") of a lock file kpieval wrote, into
 * owner; false when text is not one. Versions before the signature wrote
 * the owner line alone; a killed one's file is known too. */
static bool parse_owner(const char *text, size_t len, char *owner, size_t size)
{
    const char *p = text, *end = text + len, *line;
    size_t slen = sizeof SIGNATURE - 1;

    if (len >= slen && !memcmp(p, SIGNATURE, slen))
        p += slen;
    line = p;
    if (end - p < 5 || memcmp(p, "pid ", 4) || p[4] < '0' || p[4] > '9')
        return false;
    for (p += 4; p < end && *p >= '0' && *p <= '9'; p++)
        ;
    if (end - p < 10 || memcmp(p, ", started ", 10))
        return false;
    for (p += 10;
         p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == ':' || *p == 'T' || *p == 'Z');
         p++)
        ;
    if (p + 1 != end || *p != '\n')
        return false;
    snprintf(owner, size, "%.*s", (int)(p - line), line);
    return true;
}

/* The refusal of whatever is in the way, which stays as it is. */
static int refuse(const struct kpi_outdir_lock *lock, const char *what, struct kpi_error *err)
{
    kpi_error_set(err, KPI_EUSAGE,
                  "%s: cannot take the lock: %s is in the way (left as it is); move it away, "
                  "or choose another output folder",
                  lock->path, what);
    return kpi_error_setting(err, KPI_EUSAGE, KPI_SETTING_OUT);
}

/* What a non-regular file in the way is, or NULL when st may be a lock
 * file. (A regular file with more than one name is judged once its flock
 * is known: see existing_lock.) */
static const char *in_the_way(const struct stat *st)
{
    if (S_ISLNK(st->st_mode))
        return "a symbolic link";
    if (S_ISDIR(st->st_mode))
        return "a folder";
    if (!S_ISREG(st->st_mode))
        return "a FIFO, socket or device";
    return NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Makes OUT.lock whole and locked: 0 (lock->fd set), 1 when a file of that
 * name exists, or a negative KPI_E*. */
static int create_lock(struct kpi_outdir_lock *lock, struct kpi_error *err)
{
    char text[TEXT_MAX], dir[sizeof lock->path], proc[64], when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    int fd, len;

    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    len = snprintf(text, sizeof text, SIGNATURE "pid %ld, started %s\n", (long)getpid(), when);
    snprintf(dir, sizeof dir, "%s", lock->path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir] = '\0';

    /* A nameless file, written and locked, then given its name: no one
     * ever sees it half made. linkat fails with EEXIST as O_EXCL would. */
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (pwrite(fd, text, (size_t)len, 0) != len) {
            int saved = errno;
            close(fd);
            return kpi_error_set(err, KPI_EIO, "%s: cannot write the lock file: %s", lock->path,
                                 strerror(saved));
        }
        flock(fd, LOCK_EX); /* nobody else can have this file yet */
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, lock->path, AT_SYMLINK_FOLLOW) == 0) {
            lock->fd = fd;
            return 0;
        }
        int saved = errno;
        close(fd);
        if (saved == EEXIST)
            return 1;
        /* No /proc, or a file system that cannot link it: as below. */
    }

    /* Without O_TMPFILE (NFS, old kernels): the same under a name of its
     * own, OUT.lock.XXXXXX, then linked as OUT.lock (link fails with
     * EEXIST as O_EXCL would, also on NFS) and the own name removed. While
     * both names exist the file is locked, so a run that looks then is told
     * another run is writing; a run killed in between leaves its file with
     * two names, which the next run knows by the twin's name (dead_twin). */
    char twin[sizeof lock->path + 8];
    snprintf(twin, sizeof twin, "%s" TWIN_SUFFIX, lock->path);
    fd = mkostemp(twin, O_CLOEXEC);
    if (fd < 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create the lock file: %s", lock->path,
                             strerror(errno));
    fchmod(fd, 0644);
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        ;
    int rc = pwrite(fd, text, (size_t)len, 0) == len ? link(twin, lock->path) : -1;
    int saved = errno;
    unlink(twin);
    if (rc == 0) {
        lock->fd = fd;
        return 0;
    }
    close(fd);
    if (saved == EEXIST)
        return 1;
    return kpi_error_set(err, KPI_EIO, "%s: cannot create the lock file: %s", lock->path,
                         strerror(saved));
}

/* A file with more names than OUT.lock: when the other one is the
 * OUT.lock.XXXXXX of a run killed between its link and its unlink (the
 * caller holds the file's flock, so that run is gone), that name is
 * removed and true returned; else (a user's hard link) false. */
static bool dead_twin(const struct kpi_outdir_lock *lock, const struct stat *st)
{
    char dir[sizeof lock->path];
    const char *base = strrchr(lock->path, '/');
    size_t blen;
    bool found = false;
    struct dirent *e;
    DIR *d;

    snprintf(dir, sizeof dir, "%.*s", base ? (int)(base - lock->path) : 1,
             base ? lock->path : ".");
    if (base && base == lock->path)
        snprintf(dir, sizeof dir, "/");
    base = base ? base + 1 : lock->path;
    blen = strlen(base);
    if (st->st_nlink != 2 || !(d = opendir(dir)))
        return false;
    while (!found && (e = readdir(d))) {
        struct stat twin;
        if (strncmp(e->d_name, base, blen) || e->d_name[blen] != '.' ||
            strlen(e->d_name + blen) != sizeof TWIN_SUFFIX - 1)
            continue;
        if (fstatat(dirfd(d), e->d_name, &twin, AT_SYMLINK_NOFOLLOW) == 0 &&
            same_file(&twin, st) && unlinkat(dirfd(d), e->d_name, 0) == 0)
            found = true;
    }
    closedir(d);
    return found;
}

/* Deals with the OUT.lock that exists: 0 to try creating it again (it went
 * away, or was a dead run's and is removed now), or a negative KPI_E*:
 * KPI_EBUSY when a run holds it, KPI_EUSAGE when something else is in the
 * way. *empty counts the times it was found empty and unlocked. */
static int existing_lock(struct kpi_outdir_lock *lock, const char *out_dir, bool wait,
                         unsigned *empty, struct kpi_error *err)
{
    char text[TEXT_MAX + 1], owner[TEXT_MAX], what[64];
    struct stat by_path, by_fd;
    const char *way;
    ssize_t n;
    int fd, rc = 0;

    /* Looked at before opening, so a device is not even opened. */
    if (lstat(lock->path, &by_path) != 0)
        return errno == ENOENT ? 0
                               : kpi_error_set(err, KPI_EIO, "%s: cannot read the lock file: %s",
                                               lock->path, strerror(errno));
    if ((way = in_the_way(&by_path)))
        return refuse(lock, way, err);
    /* Read-only is enough for flock, and nothing is written into it. */
    fd = open(lock->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno == ELOOP)
            return refuse(lock, "a symbolic link", err);
        return kpi_error_set(err, KPI_EIO, "%s: cannot read the lock file: %s", lock->path,
                             strerror(errno));
    }
    if (fstat(fd, &by_fd) != 0) {
        rc = kpi_error_set(err, KPI_EIO, "%s: cannot read the lock file: %s", lock->path,
                           strerror(errno));
        goto out;
    }
    if ((way = in_the_way(&by_fd))) {
        rc = refuse(lock, way, err);
        goto out;
    }
    /* Longer than any lock file kpieval writes: not one, whatever it says. */
    n = by_fd.st_size > TEXT_MAX ? -1 : pread(fd, text, TEXT_MAX, 0);
    if (n < 0 || (n > 0 && !parse_owner(text, (size_t)n, owner, sizeof owner))) {
        rc = refuse(lock, "a file kpieval did not write", err);
        goto out;
    }
    if (n == 0)
        snprintf(owner, sizeof owner, "owner unknown");

    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK && !wait) {
            kpi_error_set(err, KPI_EBUSY,
                          "%s: another kpieval run is writing this report (%s); "
                          "wait for it, or have this run wait",
                          out_dir, owner);
            rc = kpi_error_setting(err, KPI_EBUSY, KPI_SETTING_WAIT);
            goto out;
        }
        if ((errno != EWOULDBLOCK && errno != EINTR) || flock(fd, LOCK_EX) != 0) {
            rc = errno == EINTR ? 0 /* look again */
                                : kpi_error_set(err, KPI_EIO, "%s: cannot lock: %s", lock->path,
                                                strerror(errno));
            goto out;
        }
    }
    /* Held. If the name is no longer this file (its owner removed it on
     * release), look again; else nobody is using it: who wrote it is dead. */
    if (lstat(lock->path, &by_path) != 0 || !same_file(&by_path, &by_fd))
        goto out;
    if (by_path.st_nlink != 1 && !dead_twin(lock, &by_path)) {
        snprintf(what, sizeof what, "a hard link (the file has %lu names)",
                 (unsigned long)by_path.st_nlink);
        rc = refuse(lock, what, err);
        goto out;
    }
    n = pread(fd, text, TEXT_MAX, 0);
    if (n > 0 && parse_owner(text, (size_t)n, owner, sizeof owner)) {
        unlink(lock->path); /* a dead run's; still holding it, see the top */
    } else if (n == 0 && ++*empty <= EMPTY_TRIES) {
        /* kpieval never makes it empty now, but versions before the
         * signature created it, then locked it: maybe such a run is about
         * to. Let go and look again. */
        close(fd);
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        return 0;
    } else {
        rc = refuse(lock, n == 0 ? "an empty file" : "a file kpieval did not write", err);
    }
out:
    close(fd);
    return rc;
}

int kpi_outdir_lock(const char *out_dir, bool wait, struct kpi_outdir_lock *lock,
                    struct kpi_error *err)
{
    unsigned empty = 0, made = 0;
    int rc;

    lock->fd = -1;
    lock->parents_made = 0;
    /* "out/" locks "out" too: OUT.lock beside it, never inside. */
    if ((rc = kpi_outdir_normalize(out_dir, lock->out, err)))
        return rc;
    if ((size_t)snprintf(lock->path, sizeof lock->path, "%s.lock", lock->out) >= sizeof lock->path)
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", out_dir);
    if (kpi_outdir_make_parents(lock->out, &made) != 0) {
        rc = kpi_error_set(err, KPI_EIO, "%s: cannot create the folders above it: %s", out_dir,
                           strerror(errno));
        remove_parents(lock->out, made);
        return rc;
    }
    for (;;) {
        rc = create_lock(lock, err);
        if (rc == 0) {
            lock->parents_made = made;
            return 0;
        }
        if (rc > 0)
            rc = existing_lock(lock, out_dir, wait, &empty, err);
        if (rc != 0) {
            remove_parents(lock->out, made);
            return rc;
        }
    }
}

void kpi_outdir_unlock(struct kpi_outdir_lock *lock)
{
    struct stat by_fd, by_path;

    if (lock->fd < 0)
        return;
    /* Only the file this run made; while still holding it (see the top). */
    if (fstat(lock->fd, &by_fd) == 0 && lstat(lock->path, &by_path) == 0 &&
        same_file(&by_fd, &by_path))
        unlink(lock->path);
    close(lock->fd);
    lock->fd = -1;
    remove_parents(lock->out, lock->parents_made);
    lock->parents_made = 0;
}
