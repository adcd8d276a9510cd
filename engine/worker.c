#include "worker.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "arena.h"
#include "text.h"

#define NONE SIZE_MAX
/* A worker-killed KPI's time is measured in CPU time; a KPI whose worker
 * gets no CPU at all (a stopped or swapped-out process) is killed only
 * after this many times its limit in wall time. */
#define WALL_BACKSTOP_FACTOR 20
#define STARTUP_FAILURES_MAX 3
#define POLL_NS 2000000L                  /* supervisor wake-up, 2 ms */

/* A worker slot: written by its worker, read by the supervisor. */
struct slot {
    _Atomic size_t pos;       /* next position of `order` to evaluate */
    _Atomic size_t end;       /* end of the chunk being worked on */
    _Atomic size_t current;   /* KPI in flight, or NONE */
    _Atomic int64_t started;  /* when it started (kpi_sandbox_now) */
    _Atomic int64_t started_cpu; /* the worker's CPU time then (kpi_sandbox_cpu_now) */
};

/* What a worker hands back for one KPI: plain numbers and flags, no
 * pointer. Its message, if any, is in the KPI's own KPI_MESSAGE_MAX bytes
 * of the message area, so no worker can run out of message space and
 * every message is kept, whatever --jobs is. */
struct wire_row {
    double actual, score_value;
    uint8_t status, has_actual, has_score_value, has_message, has_note;
};

struct shared {
    _Atomic size_t next;      /* next unclaimed position of `order` */
    size_t count;             /* positions in this round */
};

struct kpi_workers {
    void *map;                /* the whole shared mapping */
    size_t map_size;
    struct shared *sh;
    struct slot *slots;
    unsigned jobs;
    struct wire_row *wire;    /* n, shared */
    char *messages;           /* n * KPI_MESSAGE_MAX, shared, touched only by messages */
    char *notes;              /* the same for rule warnings (kpi_result.note) */
    struct kpi_result *rows;  /* n, the supervisor's own, validated */
    _Atomic unsigned char *done; /* n: 1 once a row is written */
    uint32_t *order;          /* n: KPI indices of this round */
    size_t n;
    struct kpi_arena arena;   /* supervisor's messages for crashed KPIs */
};

static size_t round_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

int kpi_workers_new(size_t n_kpis, unsigned jobs, kpi_workers **out, struct kpi_error *err)
{
    kpi_workers *w = calloc(1, sizeof *w);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t off_slots, off_rows, off_done, off_order, off_msgs, size;

    *out = NULL;
    if (!w)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (jobs == 0)
        jobs = 1;
    off_slots = round_up(sizeof(struct shared), 64);
    off_rows = round_up(off_slots + jobs * sizeof(struct slot), 64);
    off_done = round_up(off_rows + n_kpis * sizeof(struct wire_row), 64);
    off_order = round_up(off_done + n_kpis, 64);
    off_msgs = round_up(off_order + n_kpis * sizeof(uint32_t), page);
    size = off_msgs + 2 * n_kpis * KPI_MESSAGE_MAX; /* messages, then notes */
    if (n_kpis > UINT32_MAX) {
        free(w);
        return kpi_error_set(err, KPI_EUSAGE, "more than %u KPIs in one run", UINT32_MAX);
    }
    /* Mapped before the workers fork, so it sits at the same address in
     * every process and pointers into it (messages) stay valid. */
    w->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    if (w->map == MAP_FAILED) {
        free(w);
        return kpi_error_set(err, KPI_ENOMEM, "cannot map %zu bytes of shared memory: %s", size,
                             strerror(errno));
    }
    w->map_size = size;
    w->sh = w->map;
    w->slots = (struct slot *)((char *)w->map + off_slots);
    w->wire = (struct wire_row *)((char *)w->map + off_rows);
    w->messages = (char *)w->map + off_msgs;
    w->notes = w->messages + n_kpis * KPI_MESSAGE_MAX;
    w->rows = calloc(n_kpis ? n_kpis : 1, sizeof *w->rows);
    if (!w->rows) {
        munmap(w->map, size);
        free(w);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    w->done = (_Atomic unsigned char *)((char *)w->map + off_done);
    w->order = (uint32_t *)((char *)w->map + off_order);
    w->jobs = jobs;
    w->n = n_kpis;
    kpi_arena_init(&w->arena);
    *out = w;
    return 0;
}

void kpi_workers_free(kpi_workers *w)
{
    if (!w)
        return;
    munmap(w->map, w->map_size);
    kpi_arena_release(&w->arena);
    free(w->rows);
    free(w);
}

struct kpi_result *kpi_workers_rows(kpi_workers *w)
{
    return w->rows;
}

/* ---- the worker side ---------------------------------------------------- */

/* Only what evaluation needs: memory, time, ending. Anything else (open,
 * socket, fork, exec, kill of another process ...) kills the worker with
 * SIGSYS, which the supervisor reports against the KPI in flight. */
static void install_seccomp(void)
{
#if defined(__x86_64__)
#define KPI_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define KPI_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#ifdef KPI_AUDIT_ARCH
#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KPI_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(__NR_read),
        ALLOW(__NR_write),
        ALLOW(__NR_mmap),
        ALLOW(__NR_munmap),
        ALLOW(__NR_mremap),
        ALLOW(__NR_mprotect),
        ALLOW(__NR_madvise),
#ifdef __NR_brk
        ALLOW(__NR_brk),
#endif
        ALLOW(__NR_clock_gettime),
        ALLOW(__NR_rt_sigreturn),
        ALLOW(__NR_rt_sigprocmask),
        ALLOW(__NR_getpid),
        ALLOW(__NR_gettid),
        ALLOW(__NR_tgkill),
        ALLOW(__NR_futex),
        ALLOW(__NR_exit),
        ALLOW(__NR_exit_group),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
#undef ALLOW
    struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#endif
}

/* The process-level fence around a worker. Sanitizer builds, and runs
 * with KPIEVAL_NO_CONFINE set (valgrind, gdb), keep standard error and
 * skip the address-space limit and seccomp, which those tools need. */
static void confine(size_t memory_limit, int keep_fd)
{
    bool tools = getenv("KPIEVAL_NO_CONFINE") != NULL;
#if defined(__SANITIZE_ADDRESS__)
    tools = true;
#endif
    struct rlimit none = {0, 0};

    /* A crash kills the worker with its own signal, for the supervisor to
     * name: not a handler of the program that embeds the library (a crash
     * reporter, a test framework), which would run confined, or carry on
     * in its code. */
    static const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
        signal(crashes[i], SIG_DFL);
    /* No RLIMIT_CPU: a worker may live for hours of ordinary KPIs; the
     * watchdog bounds each evaluation instead. */
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the supervisor */
    setrlimit(RLIMIT_CORE, &none);
    if (!tools)
        setrlimit(RLIMIT_FSIZE, &none); /* tools write their reports to files */
    /* keep_fd (a pipe to the supervisor, or -1) becomes descriptor 0. */
    if (keep_fd >= 0 && keep_fd != 0) {
        dup2(keep_fd, 0);
        close(keep_fd);
    } else if (keep_fd < 0) {
        close(0);
    }
    if (tools) {
        close(1);
        return;
    }
    /* Address space: what the worker maps now (the inherited dataset and
     * Lua state) plus one evaluation's memory limit and allocator slack. */
    unsigned long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm) {
        if (fscanf(statm, "%lu", &pages) != 1)
            pages = 0;
        fclose(statm);
    }
    /* No other descriptors: results go through shared memory. */
    close(1);
    close(2);
#ifdef SYS_close_range
    syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
    setrlimit(RLIMIT_NOFILE, &none);
    if (pages) {
        rlim_t bytes = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + 2 * (rlim_t)memory_limit +
                       (rlim_t)256 * 1024 * 1024;
        struct rlimit as = {bytes, bytes};
        setrlimit(RLIMIT_AS, &as);
    }
    install_seccomp();
}

static void worker_main(kpi_workers *w, unsigned s, const kpi_dataset *ds, kpi_formulas *fe,
                        size_t chunk, size_t memory_limit)
{
    struct slot *sl = &w->slots[s];
    size_t n_kpis;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_kpis);
    char msg[KPI_MESSAGE_MAX];
    struct kpi_error err;

    confine(memory_limit, -1);
    for (;;) {
        size_t p = atomic_load(&sl->pos), end = atomic_load(&sl->end);
        if (p >= end) {
            size_t start = atomic_fetch_add(&w->sh->next, chunk);
            if (start >= w->sh->count)
                break;
            end = start + chunk < w->sh->count ? start + chunk : w->sh->count;
            atomic_store(&sl->end, end);
            atomic_store(&sl->pos, start);
            continue;
        }
        size_t i = w->order[p];
        struct kpi_result r;
        atomic_store(&sl->started, kpi_sandbox_now());
        atomic_store(&sl->started_cpu, kpi_sandbox_cpu_now());
        atomic_store(&sl->current, i);
        const char *text = kpi_formulas_eval_kpi(fe, &ks[i], &r, msg) ? msg : r.message;
        const char *note = kpi_formulas_note(fe);
        struct wire_row wr = {r.actual, r.score_value, (uint8_t)r.status, r.has_actual,
                              r.has_score_value, text != NULL, note != NULL};
        if (text) {
            size_t len = strnlen(text, KPI_MESSAGE_MAX - 1);
            memcpy(w->messages + i * KPI_MESSAGE_MAX, text, len);
            w->messages[i * KPI_MESSAGE_MAX + len] = '\0';
        }
        if (note) {
            size_t len = strnlen(note, KPI_MESSAGE_MAX - 1);
            memcpy(w->notes + i * KPI_MESSAGE_MAX, note, len);
            w->notes[i * KPI_MESSAGE_MAX + len] = '\0';
        }
        w->wire[i] = wr;
        atomic_store(&w->done[i], 1);
        atomic_store(&sl->current, NONE);
        atomic_store(&sl->pos, p + 1);
        if (kpi_formulas_tripped(fe) && kpi_formulas_rebuild(fe, &err) != 0)
            _exit(3); /* the supervisor starts a new worker */
    }
    _exit(0);
}

/* ---- the supervisor side ------------------------------------------------ */

static const char *signal_name(int sig, char buf[32])
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, 32, "SIG%s", abbrev);
    else
        snprintf(buf, 32, "signal %d", sig);
    return buf;
}

/* Records why the KPI in flight on a dead worker failed. */
static void fail_in_flight(kpi_workers *w, const kpi_dataset *ds, size_t i, int status,
                           bool timed_out, double seconds)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    char msg[KPI_MESSAGE_MAX], sig[32];
    struct wire_row *r = &w->wire[i];

    if (timed_out)
        snprintf(msg, sizeof msg,
                 "%s: formula stopped: time limit of %g s exceeded (inside a library call; "
                 "the worker was killed)",
                 ks[i].id, seconds);
    else if (WIFSIGNALED(status))
        snprintf(msg, sizeof msg, "%s: worker crashed: %s", ks[i].id,
                 signal_name(WTERMSIG(status), sig));
    else
        snprintf(msg, sizeof msg, "%s: worker crashed: exit status %d", ks[i].id,
                 WEXITSTATUS(status));
    memset(r, 0, sizeof *r);
    r->status = KPI_STATUS_ERROR;
    r->has_message = 1;
    memcpy(w->messages + i * KPI_MESSAGE_MAX, msg, strlen(msg) + 1);
    atomic_store(&w->done[i], 1);
}

struct running {
    pid_t pid;
    clockid_t cpu_clock; /* the worker's CPU-time clock */
    bool has_clock;
    bool timed_out;     /* killed by the watchdog ... */
    size_t killed_kpi;  /* ... for overrunning this KPI */
    size_t pos_at_start;
    unsigned failures;  /* deaths in a row with no KPI done */
};

static pid_t spawn(kpi_workers *w, unsigned s, const kpi_dataset *ds, kpi_formulas *fe,
                   size_t chunk, size_t memory_limit)
{
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid == 0)
        worker_main(w, s, ds, fe, chunk, memory_limit);
    return pid;
}

/* One round over w->order[0..count): returns 0, or fails when workers
 * keep dying before doing anything. */
static int run_round(kpi_workers *w, const kpi_dataset *ds, kpi_formulas *fe, double seconds,
                     const struct kpi_progress *progress,
                     size_t memory_limit, struct kpi_error *err)
{
    unsigned jobs = w->jobs;
    struct running *run = calloc(jobs ? jobs : 1, sizeof *run);
    unsigned alive = 0;
    size_t chunk = w->sh->count / ((size_t)jobs * 16);
    int64_t limit_ns = (int64_t)(seconds * 1e9);
    int64_t grace_ns = limit_ns / 4 + 200000000; /* the hook stops Lua code first */
    int rc = 0;

    if (!run)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    if (chunk < 1)
        chunk = 1;
    if (chunk > 1024)
        chunk = 1024;
    atomic_store(&w->sh->next, 0);
    if (jobs > w->sh->count)
        jobs = (unsigned)w->sh->count;
    for (unsigned s = 0; s < jobs; s++) {
        struct slot *sl = &w->slots[s];
        atomic_store(&sl->pos, 0);
        atomic_store(&sl->end, 0);
        atomic_store(&sl->current, NONE);
        run[s] = (struct running){0};
        run[s].pid = spawn(w, s, ds, fe, chunk, memory_limit);
        if (run[s].pid < 0) {
            rc = kpi_error_set(err, KPI_EIO, "cannot start a worker process: %s",
                               strerror(errno));
            break;
        }
        run[s].has_clock = clock_getcpuclockid(run[s].pid, &run[s].cpu_clock) == 0;
        alive++;
    }
    while (alive > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno != EINTR && errno != ECHILD)
            break;
        if (pid > 0) {
            unsigned s = 0;
            while (s < jobs && run[s].pid != pid)
                s++;
            if (s == jobs)
                continue; /* not ours */
            struct slot *sl = &w->slots[s];
            bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            size_t cur = atomic_load(&sl->current);
            run[s].pid = 0;
            alive--;
            if (clean)
                continue;
            /* The slot is the dead worker's word: never trusted as an index. */
            if (cur != NONE && cur >= w->n)
                cur = NONE;
            if (cur != NONE && run[s].timed_out && cur != run[s].killed_kpi) {
                /* Killed for the KPI before, just as it moved on: this one
                 * did nothing wrong; the next worker evaluates it again. */
                atomic_store(&sl->current, NONE);
            } else if (cur != NONE) {
                fail_in_flight(w, ds, cur, status, run[s].timed_out, seconds);
                atomic_store(&sl->pos, atomic_load(&sl->pos) + 1);
                atomic_store(&sl->current, NONE);
                run[s].failures = 0;
            } else if (atomic_load(&sl->pos) == run[s].pos_at_start) {
                if (++run[s].failures > STARTUP_FAILURES_MAX) {
                    char sig[32];
                    rc = kpi_error_set(err, KPI_EIO, "worker processes keep dying at start (%s)",
                                       WIFSIGNALED(status) ? signal_name(WTERMSIG(status), sig)
                                                           : "exit status");
                    break;
                }
            }
            /* A new worker takes over the slot's chunk where it stopped. */
            run[s].timed_out = false;
            size_t pos = atomic_load(&sl->pos), end = atomic_load(&sl->end);
            if (pos > end || end > w->sh->count) {
                /* Garbled: claim a new chunk; what is left undone here is
                 * evaluated in the next round. */
                atomic_store(&sl->pos, 0);
                atomic_store(&sl->end, 0);
            }
            run[s].pos_at_start = atomic_load(&sl->pos);
            run[s].pid = spawn(w, s, ds, fe, chunk, memory_limit);
            run[s].has_clock = run[s].pid > 0 && clock_getcpuclockid(run[s].pid, &run[s].cpu_clock) == 0;
            if (run[s].pid < 0) {
                rc = kpi_error_set(err, KPI_EIO, "cannot start a worker process: %s",
                                   strerror(errno));
                break;
            }
            alive++;
            continue;
        }
        /* The watchdog: a KPI far past its time limit is stuck where the
         * hook cannot reach (a long C call); only a kill stops it. */
        int64_t now = kpi_sandbox_now();
        for (unsigned s = 0; s < jobs; s++) {
            struct slot *sl = &w->slots[s];
            if (run[s].pid <= 0 || run[s].timed_out || atomic_load(&sl->current) == NONE)
                continue;
            /* CPU time, so a busy machine does not kill ordinary KPIs; wall
             * time only as a far backstop. */
            bool over = now - atomic_load(&sl->started) >
                        WALL_BACKSTOP_FACTOR * (limit_ns + grace_ns);
            struct timespec cpu;
            if (!over && run[s].has_clock && clock_gettime(run[s].cpu_clock, &cpu) == 0) {
                int64_t used = (int64_t)cpu.tv_sec * 1000000000 + cpu.tv_nsec -
                               atomic_load(&sl->started_cpu);
                over = used > limit_ns + grace_ns;
            } else if (!run[s].has_clock) {
                over = over || now - atomic_load(&sl->started) > limit_ns + grace_ns;
            }
            if (over) {
                run[s].timed_out = true;
                run[s].killed_kpi = atomic_load(&sl->current);
                kill(run[s].pid, SIGKILL);
            }
        }
        if (progress && progress->report) {
            /* Chunks handed out so far: close enough for a progress bar. */
            size_t claimed = atomic_load(&w->sh->next);
            progress->report(progress->ctx, claimed < w->sh->count ? claimed : w->sh->count,
                             w->sh->count);
        }
        struct timespec ts = {0, POLL_NS};
        nanosleep(&ts, NULL);
    }
    if (rc) {
        for (unsigned s = 0; s < jobs; s++) {
            if (run[s].pid > 0) {
                kill(run[s].pid, SIGKILL);
                waitpid(run[s].pid, NULL, 0);
            }
        }
    }
    free(run);
    return rc;
}

/* Copies a worker's row into the supervisor's own, validated like input
 * from a file: a worker whose VM was corrupted may have written anything. */
static void accept_row(kpi_workers *w, const struct kpi_indicator *ks, size_t i)
{
    struct wire_row wr = w->wire[i];
    struct kpi_result *r = &w->rows[i];
    char *text = w->messages + i * KPI_MESSAGE_MAX, *note = w->notes + i * KPI_MESSAGE_MAX;
    bool sane = wr.status < KPI_STATUS_COUNT && wr.has_actual <= 1 &&
                wr.has_score_value <= 1 && wr.has_message <= 1 && wr.has_note <= 1 &&
                (!wr.has_actual || isfinite(wr.actual)) &&
                (!wr.has_score_value || isfinite(wr.score_value)) &&
                (wr.status == KPI_STATUS_OK) != wr.has_message;

    memset(r, 0, sizeof *r);
    text[KPI_MESSAGE_MAX - 1] = '\0';
    note[KPI_MESSAGE_MAX - 1] = '\0';
    if (!sane) {
        r->status = KPI_STATUS_ERROR;
        r->message = "worker returned a malformed result";
        return;
    }
    r->status = (enum kpi_status)wr.status;
    r->has_actual = wr.has_actual;
    r->has_score_value = wr.has_score_value;
    r->actual = wr.has_actual ? wr.actual : 0;
    r->score_value = wr.has_score_value ? wr.score_value : 0;
    if (wr.has_message) {
        kpi_text_utf8_repair(text);
        r->message = text;
    }
    if (wr.has_note) {
        kpi_text_utf8_repair(note);
        r->note = note;
    }
    if (r->status == KPI_STATUS_INVALID && ks[i].invalid)
        r->message = ks[i].invalid; /* whole, from the supervisor's own dataset */
}

int kpi_workers_run(kpi_workers *w, const kpi_dataset *ds, kpi_formulas *fe,
                    const unsigned *kpis, size_t n_kpis, double seconds,
                    const struct kpi_progress *progress, struct kpi_error *err)
{
    size_t count = 0, previous = SIZE_MAX;
    int rc = 0;

    for (size_t k = 0; k < n_kpis; k++) {
        assert(kpis[k] < w->n);
        atomic_store(&w->done[kpis[k]], 0);
        w->order[k] = (uint32_t)kpis[k];
    }
    count = n_kpis;
    /* A KPI can be left undone only when a worker died between claiming a
     * chunk and recording it; another round picks such KPIs up. */
    while (count > 0 && count < previous && !rc) {
        w->sh->count = count;
        rc = run_round(w, ds, fe, seconds, previous == SIZE_MAX ? progress : NULL,
                       kpi_formulas_memory_limit(fe), err);
        previous = count;
        count = 0;
        for (size_t k = 0; k < n_kpis; k++) {
            if (!atomic_load(&w->done[kpis[k]]))
                w->order[count++] = (uint32_t)kpis[k];
        }
    }
    if (!rc && count > 0)
        rc = kpi_error_set(err, KPI_EIO, "%zu KPIs could not be evaluated by any worker", count);
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n);
    for (size_t k = 0; k < n_kpis && !rc; k++)
        accept_row(w, ks, kpis[k]);
    return rc;
}

/* ---- checking plugins in a child ---------------------------------------- */

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* One line to the supervisor: tag, plugin number, then text with its
 * line breaks made spaces (a Lua message may hold any). */
static void tell(char tag, size_t i, unsigned line, const char *text)
{
    char buf[KPI_ERROR_MESSAGE_MAX + 64];
    int n = snprintf(buf, sizeof buf, "%c%zu %u %s", tag, i, line, text ? text : "");
    size_t len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2;
    for (size_t k = 0; k < len; k++)
        if (buf[k] == '\n' || buf[k] == '\r')
            buf[k] = ' ';
    buf[len++] = '\n';
    write_all(0, buf, len);
}

/* The child: checks plugins first.. and tells "P i" before each, "B i
 * LINE MESSAGE" for a broken one, "E i 0 MESSAGE" when out of memory, "D"
 * at the end. */
static void check_child(kpi_formulas *fe, size_t first, int fd)
{
    confine(kpi_formulas_memory_limit(fe), fd);
    for (size_t i = first; i < kpi_formulas_plugin_count(fe); i++) {
        struct kpi_error why = {0};
        tell('P', i, 0, NULL);
        int rc = kpi_formulas_check_plugin(fe, i, &why);
        if (rc == KPI_EPLUGIN) {
            tell('B', i, why.line, why.message);
            /* so that a later plugin's top level calling it fails too */
            kpi_formulas_mark_broken(fe, i, why.line, why.message, NULL);
        } else if (rc) {
            tell('E', i, 0, why.message);
            _exit(0);
        }
    }
    write_all(0, "D\n", 2);
    _exit(0);
}

/* Parses "N LINE TEXT" after a tag; false when malformed or N >= n. */
static bool parse_told(char *s, size_t n, size_t *i, unsigned *line, const char **text)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != ' ' || v >= n)
        return false;
    *i = (size_t)v;
    unsigned long l = strtoul(end + 1, &end, 10);
    if (*end != ' ' || l > UINT_MAX)
        return false;
    *line = (unsigned)l;
    *text = end + 1;
    return true;
}

/* One child's run over plugins first..: marks in fe what it tells. Returns
 * 0 with *next the plugin to start the next child at (the count when all
 * are checked), or an error. */
static int check_round(kpi_formulas *fe, size_t first, double seconds, size_t *next,
                       struct kpi_error *err)
{
    int fds[2];
    char buf[8192];
    size_t used = 0, n = kpi_formulas_plugin_count(fe), current = SIZE_MAX, told = SIZE_MAX;
    int64_t limit_ns = (int64_t)(seconds * 1e9), grace_ns = limit_ns / 4 + 200000000;
    int64_t deadline;
    int rc = 0, status;
    bool finished = false, timed_out = false;

    *next = n;
    if (pipe(fds) != 0)
        return kpi_error_set(err, KPI_EIO, "cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return kpi_error_set(err, KPI_EIO, "cannot start a process: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        check_child(fe, first, fds[1]);
    }
    close(fds[1]);
    deadline = kpi_sandbox_now() + limit_ns + grace_ns;
    while (!finished && !rc) {
        int64_t left = deadline - kpi_sandbox_now();
        struct timeval tv = {(time_t)(left / 1000000000), (suseconds_t)(left % 1000000000 / 1000)};
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fds[0], &set);
        if (left <= 0 || select(fds[0] + 1, &set, NULL, NULL, &tv) == 0) {
            kill(pid, SIGKILL);
            timed_out = true;
            break;
        }
        ssize_t k = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break; /* the child died */
        used += (size_t)k;
        buf[used] = '\0';
        char *nl;
        while (!rc && (nl = memchr(buf, '\n', used))) {
            size_t i;
            unsigned line;
            const char *text;
            *nl = '\0';
            if (buf[0] == 'D') {
                finished = true;
            } else if (buf[0] == 'P' && parse_told(buf + 1, n, &i, &line, &text) && i >= first) {
                current = i;
                deadline = kpi_sandbox_now() + limit_ns + grace_ns; /* per plugin */
            } else if (buf[0] == 'B' && parse_told(buf + 1, n, &i, &line, &text) &&
                       i == current) {
                rc = kpi_formulas_mark_broken(fe, i, line, text, err);
                told = i;
            } else if (buf[0] == 'E' && parse_told(buf + 1, n, &i, &line, &text)) {
                rc = kpi_error_set(err, KPI_ENOMEM, "%s", text);
            }
            used -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, used);
        }
        if (used == sizeof buf - 1)
            used = 0; /* an overlong line: drop it */
    }
    close(fds[0]);
    waitpid(pid, &status, 0);
    if (rc || finished)
        return rc;
    /* Killed, or died: the plugin in flight is broken, the others keep
     * what they were told to be; the next child goes on after it. */
    if (current == SIZE_MAX)
        return kpi_error_set(err, KPI_EIO, "the plugin checker died at start");
    *next = current + 1;
    if (told == current) /* died after telling its outcome: keep that one */
        return 0;
    const char *path, *bytes;
    size_t len;
    char why[KPI_ERROR_MESSAGE_MAX], sig[32];
    path = kpi_formulas_plugin_file(fe, current, &bytes, &len);
    if (timed_out)
        snprintf(why, sizeof why,
                 "%s: loading failed: time limit of %g s exceeded (the top level runs too long)",
                 path, seconds);
    else
        snprintf(why, sizeof why, "%s: loading the plugin crashed the checker (%s)", path,
                 WIFSIGNALED(status) ? signal_name(WTERMSIG(status), sig) : "it exited");
    return kpi_formulas_mark_broken(fe, current, 0, why, err);
}

int kpi_workers_check_plugins(kpi_formulas *fe, double seconds, struct kpi_error *err)
{
    size_t first = 0, n = kpi_formulas_plugin_count(fe);
    int rc = 0;

    while (!rc && first < n)
        rc = check_round(fe, first, seconds, &first, err);
    return rc;
}
