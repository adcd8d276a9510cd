/* LD_PRELOAD shim for tests/e2e/run_files.sh: open() with O_TMPFILE fails
 * as on NFS, so kpieval makes its lock the other way (OUT.lock.XXXXXX,
 * linked as OUT.lock); with KPIEVAL_TEST_DIE_AFTER_LINK set, the process
 * dies right after a successful link(), as a run killed between its link
 * and its unlink. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static int shim_open(const char *name, const char *path, int flags, va_list ap)
{
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
    mode_t mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = shim_open("open", path, flags, ap);
    va_end(ap);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = shim_open("open64", path, flags, ap);
    va_end(ap);
    return fd;
}

int link(const char *from, const char *to)
{
    int (*real)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
    int rc = real(from, to);
    if (rc == 0 && getenv("KPIEVAL_TEST_DIE_AFTER_LINK"))
        _exit(9);
    return rc;
}
