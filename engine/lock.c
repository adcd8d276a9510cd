/*
 * lock.c - the lock on an output folder: one run at a time writes a report
 * folder; a second one fails at once naming the first, or waits.
 *
 * The lock is an flock(2) on OUT.lock beside OUT (where the staging folders
 * go too), so the kernel releases it when a run dies, however it dies. The
 * file holds the owner's PID and start time for the message. It is removed
 * by its owner on release; a run that finds the file replaced between its
 * open and its flock (the owner just removed it) starts over.
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

/* What OUT.lock says about its owner, for the message; "" when unreadable. */
static void read_owner(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

int kpi_report_lock(const char *out_dir, bool wait, struct kpi_report_lock *lock,
                    struct kpi_error *err)
{
    struct stat by_fd, by_path;

    lock->fd = -1;
    if ((size_t)snprintf(lock->path, sizeof lock->path, "%s.lock", out_dir) >= sizeof lock->path)
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", out_dir);
    if (kpi_report_make_parents(out_dir) != 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create the folders above it: %s", out_dir,
                             strerror(errno));
    for (;;) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return kpi_error_set(err, KPI_EIO, "%s: cannot create the lock file: %s", lock->path,
                                 strerror(errno));
        if (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;
            char owner[128];
            if (saved == EINTR) {
                close(fd);
                continue;
            }
            read_owner(fd, owner, sizeof owner);
            close(fd);
            if (saved == EWOULDBLOCK)
                return kpi_error_set(err, KPI_EBUSY,
                                     "%s: another kpieval run is writing this report (%s); "
                                     "wait for it, or use --wait",
                                     out_dir, *owner ? owner : "owner unknown");
            return kpi_error_set(err, KPI_EIO, "%s: cannot lock: %s", lock->path,
                                 strerror(saved));
        }
        /* Locked; but if the owner removed the file meanwhile, this lock is
         * on a file nobody else will see: start over. */
        if (fstat(fd, &by_fd) == 0 && stat(lock->path, &by_path) == 0 &&
            by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino) {
            char owner[128];
            time_t now = time(NULL);
            struct tm tm;
            char when[32] = "";
            if (gmtime_r(&now, &tm))
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            int len = snprintf(owner, sizeof owner, "pid %ld, started %s\n", (long)getpid(), when);
            if (ftruncate(fd, 0) != 0 || pwrite(fd, owner, (size_t)len, 0) != len) {
                /* Only the message suffers. */
            }
            lock->fd = fd;
            return 0;
        }
        close(fd);
    }
}

void kpi_report_unlock(struct kpi_report_lock *lock)
{
    if (lock->fd < 0)
        return;
    unlink(lock->path); /* while still holding it: see the top of this file */
    close(lock->fd);
    lock->fd = -1;
}
