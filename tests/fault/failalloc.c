/* failalloc: an LD_PRELOAD shim that makes the N-th allocation fail.
 *
 * Wraps malloc, calloc, realloc, reallocarray and the aligned allocators;
 * strdup, fopen, opendir and the rest of glibc allocate through these, so
 * they fail too. Forwards to glibc's __libc_* entry points (no dlsym at
 * allocation time) and never replaces free. Relies on glibc.
 *
 * Environment:
 *   KPIEVAL_FAIL_ALLOC=N          fail the N-th allocation counted after main
 *                                 starts (0 or unset: count, never fail)
 *   KPIEVAL_FAIL_ALLOC_PERSIST=1  fail the N-th and every later allocation
 *   KPIEVAL_FAIL_ALLOC_SCOPE=     which processes count:
 *       main      (default) the process started with the shim only; forked
 *                 and exec'd descendants allocate normally
 *       children  only processes it forks, each counting from 0 at the
 *                 fork (the main process never fails)
 *       all       both, each forked child counting from 0 at the fork
 *   KPIEVAL_FAIL_ALLOC_LOG=PATH   the main process appends
 *                                 "pid PID inject N caller ADDR" when it
 *                                 injects a failure, and at exit
 *                                 "pid PID allocs COUNT injected N
 *                                  children_injected K children_allocs M"
 *                                 (N: 0 if none; K: forked children that
 *                                 injected one; M: most allocations any
 *                                 forked child made)
 *
 * A forked child (a kpieval worker: seccomp, no file size) makes no system
 * call here: it reports through a page shared with the main process.
 * A failed call returns NULL with errno ENOMEM, like glibc's own failure. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

enum scope { SCOPE_MAIN, SCOPE_CHILDREN, SCOPE_ALL };

/* What forked children report to the main process. */
struct shared_page {
    unsigned long children_injected;
    unsigned long children_allocs;
};

/* Counting happens only when armed; the counter is per process (a fork
 * copies it, and the atfork handler decides what the child does). */
static bool armed;
static bool in_child; /* a process forked from the main one */
static bool persist;
static enum scope scope = SCOPE_MAIN;
static unsigned long fail_at;  /* 0: never */
static unsigned long count;    /* allocations seen while armed */
static unsigned long injected; /* N of the first injected failure, or 0 */
static const char *log_path;
static pid_t main_pid;             /* the process started with the shim */
static struct shared_page *shared; /* MAP_SHARED, made before any fork */

/* Formats v in decimal (or hex) at the end of buf; returns the start. */
static char *fmt_ulong(char *end, unsigned long v, unsigned base)
{
    *--end = '\0';
    do {
        *--end = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    return end;
}

/* Appends one line to the log with open/write only: no allocation. */
static void log_line(const char *const *parts)
{
    char line[256];
    size_t o = 0;
    int fd;

    if (!log_path || in_child)
        return;
    for (; *parts; parts++)
        for (const char *p = *parts; *p && o < sizeof line - 1; p++)
            line[o++] = *p;
    line[o++] = '\n';
    fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, o);
    (void)w;
    close(fd);
}

static void note_injection(void *caller)
{
    char pid[24], n[24], addr[24];
    const char *parts[] = {
        "pid ",       fmt_ulong(pid + sizeof pid, (unsigned long)main_pid, 10),
        " inject ",   fmt_ulong(n + sizeof n, count, 10),
        " caller 0x", fmt_ulong(addr + sizeof addr, (unsigned long)(uintptr_t)caller, 16),
        NULL};
    injected = count;
    if (in_child) {
        if (shared)
            __atomic_fetch_add(&shared->children_injected, 1, __ATOMIC_RELAXED);
    } else {
        log_line(parts);
    }
}

static bool should_fail(void *caller)
{
    if (!armed)
        return false;
    count++;
    if (in_child && shared) {
        unsigned long seen = __atomic_load_n(&shared->children_allocs, __ATOMIC_RELAXED);
        while (count > seen &&
               !__atomic_compare_exchange_n(&shared->children_allocs, &seen, count, true,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            ;
    }
    if (!fail_at || count < fail_at || (count > fail_at && !persist))
        return false;
    if (!injected)
        note_injection(caller);
    errno = ENOMEM;
    return true;
}

#define CALLER __builtin_return_address(0)

void *malloc(size_t size)
{
    return should_fail(CALLER) ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    return should_fail(CALLER) ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    /* realloc(p, 0) frees: nothing to fail. */
    if (p && size == 0)
        return __libc_realloc(p, size);
    return should_fail(CALLER) ? NULL : __libc_realloc(p, size);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

void *memalign(size_t align, size_t size)
{
    return should_fail(CALLER) ? NULL : __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return should_fail(CALLER) ? NULL : __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    void *p;
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    if (should_fail(CALLER))
        return ENOMEM;
    p = __libc_memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* ---- arming --------------------------------------------------------------- */

static unsigned long env_ulong(const char *name)
{
    const char *s = getenv(name);
    unsigned long v = 0;
    if (!s)
        return 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (unsigned long)(*s - '0');
    return v;
}

static void report_at_exit(void)
{
    char pid[24], n[24], inj[24], ci[24], ca[24];
    const char *parts[] = {
        "pid ",
        fmt_ulong(pid + sizeof pid, (unsigned long)main_pid, 10),
        " allocs ",
        fmt_ulong(n + sizeof n, count, 10),
        " injected ",
        fmt_ulong(inj + sizeof inj, injected, 10),
        " children_injected ",
        fmt_ulong(ci + sizeof ci,
                  shared ? __atomic_load_n(&shared->children_injected, __ATOMIC_RELAXED) : 0, 10),
        " children_allocs ",
        fmt_ulong(ca + sizeof ca,
                  shared ? __atomic_load_n(&shared->children_allocs, __ATOMIC_RELAXED) : 0, 10),
        NULL};
    log_line(parts); /* not in a forked child that calls exit() */
}

static void after_fork_in_child(void)
{
    in_child = true;
    count = 0;
    injected = 0;
    armed = scope != SCOPE_MAIN;
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

/* Arms the counter as main starts, so the dynamic loader's and the
 * libraries' start-up allocations are not counted. */
static int armed_main(int argc, char **argv, char **envp)
{
    const char *s = getenv("KPIEVAL_FAIL_ALLOC_SCOPE");
    const char *owner = getenv("KPIEVAL_FAIL_ALLOC_PID");
    char pid[24];

    /* A descendant exec'd from the tested process inherits LD_PRELOAD and
     * this marker; it is not the process under test. */
    if (owner && (pid_t)strtol(owner, NULL, 10) != getpid())
        return real_main(argc, argv, envp);
    if (s && !strcmp(s, "children"))
        scope = SCOPE_CHILDREN;
    else if (s && !strcmp(s, "all"))
        scope = SCOPE_ALL;
    persist = env_ulong("KPIEVAL_FAIL_ALLOC_PERSIST") != 0;
    fail_at = env_ulong("KPIEVAL_FAIL_ALLOC");
    log_path = getenv("KPIEVAL_FAIL_ALLOC_LOG");
    if (log_path)
        log_path = strdup(log_path); /* not armed yet: cannot fail */
    main_pid = getpid();
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        shared = NULL;
    setenv("KPIEVAL_FAIL_ALLOC_PID", fmt_ulong(pid + sizeof pid, (unsigned long)main_pid, 10), 1);
    pthread_atfork(NULL, NULL, after_fork_in_child);
    atexit(report_at_exit);
    armed = scope != SCOPE_CHILDREN;
    return real_main(argc, argv, envp);
}

typedef int (*start_main_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void),
                             void *);
int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end)
{
    start_main_fn real = (start_main_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return real(armed_main, argc, argv, init, fini, rtld_fini, stack_end);
}
