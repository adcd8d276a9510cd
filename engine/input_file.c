#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int kpi_input_open(const char *path, const char *name, int code, struct stat *st,
                   struct kpi_error *err)
{
    struct stat own, pre;
    int fd, flags, saved;

    if (!st)
        st = &own;
    /* A look before opening, so that a device is not even opened (opening
     * some has effects: a tape rewinds, a watchdog starts). It decides only
     * refusals; the fstat on the descriptor below is the check that counts. */
    if (lstat(path, &pre) == 0 && !S_ISREG(pre.st_mode)) {
        if (S_ISLNK(pre.st_mode))
            goto symlink;
        return kpi_error_at(err, code, name, 0, 0, "%s: not a regular file", name);
    }
    /* O_NONBLOCK: a FIFO swapped in meanwhile opens at once, to be refused
     * below, instead of waiting for a writer; O_NOFOLLOW: the same for a
     * link. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) {
        saved = errno;
        if (saved == ELOOP && lstat(path, &pre) == 0 && S_ISLNK(pre.st_mode))
            goto symlink;
        kpi_error_at(err, KPI_EIO, path, 0, 0, "%s: cannot open: %s", path, strerror(saved));
        errno = saved;
        return KPI_EIO;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return kpi_error_at(err, code, name, 0, 0, "%s: not a regular file", name);
    }
    /* Regular files ignore O_NONBLOCK; cleared all the same, so the
     * descriptor behaves as an ordinary one wherever it goes. */
    flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
symlink:
    return kpi_error_at(err, code, name, 0, 0,
                        "%s: a symbolic link; kpieval does not follow links to its inputs: "
                        "copy the file there instead",
                        name);
}
