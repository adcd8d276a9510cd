/*
 * lock.c - the lock on an output folder: one run at a time writes a report
 * folder; a second one fails at once naming the first, or waits.
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
#include "kpieval/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SIGNATURE   "kpieval-lock 1\n"
#define TEXT_MAX    128 /* bytes: a lock file kpieval writes is shorter */
#define EMPTY_TRIES 50  /* times 20 ms: how long an empty file may be a run starting */

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
static int refuse(const struct kpi_report_lock *lock, const char *what, struct kpi_error *err)
{
    return kpi_error_set(err, KPI_EUSAGE,
                         "%s: cannot take the lock: %s is in the way (left as it is); move it "
                         "away, or choose another --out",
                         lock->path, what);
}

/* What a non-regular file or a hard link in the way is, or NULL when st
 * may be a lock file. */
static const char *in_the_way(const struct stat *st, char *buf, size_t size)
{
    if (S_ISLNK(st->st_mode))
        return "a symbolic link";
    if (S_ISDIR(st->st_mode))
        return "a folder";
    if (!S_ISREG(st->st_mode))
        return "a FIFO, socket or device";
    if (st->st_nlink != 1) {
        snprintf(buf, size, "a hard link (the file has %lu names)", (unsigned long)st->st_nlink);
        return buf;
    }
    return NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Makes OUT.lock whole and locked: 0 (lock->fd set), 1 when a file of that
 * name exists, or a negative KPI_E*. */
static int create_lock(struct kpi_report_lock *lock, struct kpi_error *err)
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
            /* Only the message suffers. */
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

    /* Without O_TMPFILE (NFS, old kernels): created, then locked at once.
     * A run that finds it empty meanwhile lets go of it and looks again. */
    fd = open(lock->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return 1;
        return kpi_error_set(err, KPI_EIO, "%s: cannot create the lock file: %s", lock->path,
                             strerror(errno));
    }
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        ;
    if (pwrite(fd, text, (size_t)len, 0) != len) {
        /* Only the message suffers. */
    }
    lock->fd = fd;
    return 0;
}

/* Deals with the OUT.lock that exists: 0 to try creating it again (it went
 * away, or was a dead run's and is removed now), or a negative KPI_E*:
 * KPI_EBUSY when a run holds it, KPI_EUSAGE when something else is in the
 * way. *empty counts the times it was found empty and unlocked. */
static int existing_lock(struct kpi_report_lock *lock, const char *out_dir, bool wait,
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
    if ((way = in_the_way(&by_path, what, sizeof what)))
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
    if ((way = in_the_way(&by_fd, what, sizeof what))) {
        rc = refuse(lock, way, err);
        goto out;
    }
    n = by_fd.st_size > TEXT_MAX ? TEXT_MAX : pread(fd, text, TEXT_MAX, 0);
    if (n < 0 || (n > 0 && !parse_owner(text, (size_t)n, owner, sizeof owner))) {
        rc = refuse(lock, "a file kpieval did not write", err);
        goto out;
    }
    if (n == 0)
        snprintf(owner, sizeof owner, "owner unknown");

    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK && !wait) {
            rc = kpi_error_set(err, KPI_EBUSY,
                               "%s: another kpieval run is writing this report (%s); "
                               "wait for it, or use --wait",
                               out_dir, owner);
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
    n = pread(fd, text, TEXT_MAX, 0);
    if (n > 0 && parse_owner(text, (size_t)n, owner, sizeof owner)) {
        unlink(lock->path); /* a dead run's; still holding it, see the top */
    } else if (n == 0 && ++*empty <= EMPTY_TRIES) {
        /* Maybe a run that has just created it (without O_TMPFILE) and is
         * about to lock it: let go and look again. */
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

int kpi_report_lock(const char *out_dir, bool wait, struct kpi_report_lock *lock,
                    struct kpi_error *err)
{
    char out[KPI_PATH_MAX];
    unsigned empty = 0;

    lock->fd = -1;
    /* "out/" locks "out" too: OUT.lock beside it, never inside. */
    if (kpi_report_normalize(out_dir, out) ||
        (size_t)snprintf(lock->path, sizeof lock->path, "%s.lock", out) >= sizeof lock->path)
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", out_dir);
    if (kpi_report_make_parents(out) != 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create the folders above it: %s", out_dir,
                             strerror(errno));
    for (;;) {
        int rc = create_lock(lock, err);
        if (rc <= 0)
            return rc;
        if ((rc = existing_lock(lock, out_dir, wait, &empty, err)) != 0)
            return rc;
    }
}

void kpi_report_unlock(struct kpi_report_lock *lock)
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
}
