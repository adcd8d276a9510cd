/* Unit tests of engine/outdir.c (outdir.h): the output folder's name, the
 * check before a run, the lock beside it, staging, the swap, and the
 * cleanup after killed runs. Error texts are only matched on the path or
 * the PID they must name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kpieval/outdir.h"
#include "scratch.h"

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "outdir");
    return 0;
}

#define assert_listing(dir, want)                                                                  \
    do {                                                                                           \
        char listing_[2048];                                                                       \
        scratch_list_dir((dir), listing_, sizeof listing_);                                                \
        assert_string_equal(listing_, (want));                                                     \
    } while (0)

/* ---- normalize ---------------------------------------------------------- */

static void test_outdir_normalize(void **state)
{
    char out[KPI_PATH_MAX];
    struct kpi_error err = {0};
    (void)state;

    assert_int_equal(kpi_outdir_normalize("out", out, &err), 0);
    assert_string_equal(out, "out");
    /* Trailing slashes go, however many; "/" alone stays "/". */
    assert_int_equal(kpi_outdir_normalize("a/b/out/", out, &err), 0);
    assert_string_equal(out, "a/b/out");
    assert_int_equal(kpi_outdir_normalize("/x/out///", out, &err), 0);
    assert_string_equal(out, "/x/out");
    assert_int_equal(kpi_outdir_normalize("/", out, &err), 0);
    assert_string_equal(out, "/");
    /* "." and ".." inside the path are the caller's; only the last level
     * matters. */
    assert_int_equal(kpi_outdir_normalize("./a/../out", out, &err), 0);
    assert_string_equal(out, "./a/../out");
    assert_int_equal(kpi_outdir_normalize(".out", out, &err), 0);
    assert_string_equal(out, ".out");
    assert_int_equal(kpi_outdir_normalize("..out/", out, &err), 0);
    assert_string_equal(out, "..out");

    /* Refused: empty, '.', '..' last, also behind slashes. */
    assert_int_equal(kpi_outdir_normalize("", out, &err), KPI_EUSAGE);
    assert_int_equal(kpi_outdir_normalize(".", out, &err), KPI_EUSAGE);
    assert_int_equal(kpi_outdir_normalize("..", out, &err), KPI_EUSAGE);
    assert_int_equal(kpi_outdir_normalize("a/.", out, &err), KPI_EUSAGE);
    assert_contains(err.message, "a/.");
    assert_int_equal(kpi_outdir_normalize("a/..//", out, &err), KPI_EUSAGE);
    assert_int_equal(kpi_outdir_normalize("./", out, &err), KPI_EUSAGE);

    /* Too long: 32 bytes are kept for ".lock" and ".kpieval-tmp-XXXXXX". */
    static char name[KPI_PATH_MAX + 10];
    memset(name, 'a', sizeof name - 1);
    name[KPI_PATH_MAX - 33] = '\0'; /* 4063 bytes: fits */
    assert_int_equal(kpi_outdir_normalize(name, out, &err), 0);
    assert_int_equal(strlen(out), KPI_PATH_MAX - 33);
    name[KPI_PATH_MAX - 33] = 'a';
    name[KPI_PATH_MAX - 32] = '\0'; /* 4064 bytes: too long */
    assert_int_equal(kpi_outdir_normalize(name, out, &err), KPI_EUSAGE);
    name[KPI_PATH_MAX - 32] = 'a';
    assert_int_equal(kpi_outdir_normalize(name, out, &err), KPI_EUSAGE);
}

/* ---- check -------------------------------------------------------------- */

static void test_outdir_check(void **state)
{
    char dir[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX], link[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    (void)state;

    scratch_fresh_subdir(dir, tmp, "check");
    /* Absent, and empty: fine. */
    assert_int_equal(kpi_outdir_check(scratch_join(path, dir, "absent"), &err), 0);
    assert_false(scratch_exists(path)); /* touches nothing */
    assert_int_equal(kpi_outdir_check(scratch_fresh_subdir(path, dir, "empty"), &err), 0);
    /* A report folder: by report.json, or by the marker alone. */
    scratch_fresh_subdir(path, dir, "report");
    scratch_write_in(path, "report.json", "{}\n");
    scratch_write_in(path, "kpis.csv", "id\n");
    assert_int_equal(kpi_outdir_check(path, &err), 0);
    scratch_fresh_subdir(path, dir, "marked");
    scratch_write_in(path, KPI_REPORT_MARKER, "");
    scratch_write_in(path, "kpis.csv", "id\n");
    assert_int_equal(kpi_outdir_check(path, &err), 0);
    /* With a trailing slash: the same folder. */
    strcat(path, "/");
    assert_int_equal(kpi_outdir_check(path, &err), 0);
    /* Someone's folder: refused, naming it. */
    scratch_fresh_subdir(path, dir, "foreign");
    scratch_write_in(path, "notes.txt", "mine");
    assert_int_equal(kpi_outdir_check(path, &err), KPI_EUSAGE);
    assert_contains(err.message, path);
    /* A folder named like a report file does not make a report. */
    scratch_fresh_subdir(path, dir, "lookalike");
    scratch_mkdir(scratch_join(link, path, "kpis.csv"));
    assert_int_equal(kpi_outdir_check(path, &err), KPI_EUSAGE);
    /* A file. */
    scratch_write(scratch_join(path, dir, "file"), "x");
    assert_int_equal(kpi_outdir_check(path, &err), KPI_EUSAGE);
    assert_contains(err.message, path);
    /* A symbolic link to a report folder, with and without a slash. */
    scratch_join(path, dir, "report");
    assert_int_equal(symlink(path, scratch_join(link, dir, "link")), 0);
    assert_int_equal(kpi_outdir_check(link, &err), KPI_EUSAGE);
    assert_contains(err.message, link);
    strcat(link, "/");
    assert_int_equal(kpi_outdir_check(link, &err), KPI_EUSAGE);
    /* A dangling link too. */
    assert_int_equal(symlink("nowhere", scratch_join(link, dir, "dangling")), 0);
    assert_int_equal(kpi_outdir_check(link, &err), KPI_EUSAGE);
    /* Empty name. */
    assert_int_equal(kpi_outdir_check("", &err), KPI_EUSAGE);
    /* Nothing was changed by any of it. */
    assert_listing(dir, "dangling|empty|file|foreign|link|lookalike|marked|report");
}

/* ---- lock --------------------------------------------------------------- */

static char *read_text(const char *path)
{
    char *t = scratch_read(path);
    assert_non_null(t);
    return t;
}

static void test_outdir_lock_is_exclusive_and_names_the_pid(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], lockfile[SCRATCH_PATH_MAX + 16];
    char pid[32];
    struct kpi_outdir_lock a = KPI_OUTDIR_LOCK_INIT, b = KPI_OUTDIR_LOCK_INIT;
    struct kpi_error err = {0};
    (void)state;

    scratch_fresh_subdir(dir, tmp, "exclusive");
    scratch_join(out, dir, "out");
    snprintf(lockfile, sizeof lockfile, "%s.lock", out);
    assert_int_equal(kpi_outdir_lock(out, false, &a, &err), 0);
    assert_true(a.fd >= 0);
    assert_string_equal(a.path, lockfile);
    /* Beside OUT; OUT itself is not made by the lock. */
    assert_listing(dir, "out.lock");
    /* Its text: the signature, then "pid N, started T". */
    char *text = read_text(lockfile);
    snprintf(pid, sizeof pid, "pid %ld, started ", (long)getpid());
    assert_starts_with(text, "kpieval-lock 1\n");
    assert_starts_with(text + strlen("kpieval-lock 1\n"), pid);
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);

    /* A second lock (flock conflicts across open files, also in one
     * process): busy, naming the owner's PID; "out/" is the same folder. */
    strcat(out, "/");
    alarm(10); /* a lock that waits instead of failing kills the program */
    assert_int_equal(kpi_outdir_lock(out, false, &b, &err), KPI_EBUSY);
    alarm(0);
    assert_int_equal(b.fd, -1);
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_contains(err.message, pid);
    /* The refused lock did not touch the owner's file. */
    assert_listing(dir, "out.lock");
    kpi_outdir_unlock(&b); /* never taken: nothing happens */
    assert_listing(dir, "out.lock");

    kpi_outdir_unlock(&a);
    assert_int_equal(a.fd, -1);
    assert_listing(dir, "");
    kpi_outdir_unlock(&a); /* twice: nothing */
    /* Free again. */
    assert_int_equal(kpi_outdir_lock(out, false, &b, &err), 0);
    kpi_outdir_unlock(&b);
    assert_listing(dir, "");
}

/* A child process takes the lock and holds it; the parent's try fails
 * naming the child's PID. */
static void test_outdir_lock_busy_names_another_process(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], pid[32];
    struct kpi_outdir_lock a = KPI_OUTDIR_LOCK_INIT;
    struct kpi_error err = {0};
    int ready[2], go[2];
    char c;
    (void)state;

    scratch_fresh_subdir(dir, tmp, "busy");
    scratch_join(out, dir, "out");
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct kpi_outdir_lock l = KPI_OUTDIR_LOCK_INIT;
        alarm(10); /* never outlives a parent that failed */
        struct kpi_error e = {0};
        int rc = kpi_outdir_lock(out, false, &l, &e);
        (void)!write(ready[1], rc == 0 ? "y" : "n", 1);
        (void)!read(go[0], &c, 1);
        kpi_outdir_unlock(&l);
        _exit(0);
    }
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    alarm(10); /* a lock that waits instead of failing kills the program */
    assert_int_equal(kpi_outdir_lock(out, false, &a, &err), KPI_EBUSY);
    alarm(0);
    snprintf(pid, sizeof pid, "pid %ld,", (long)child);
    assert_contains(err.message, pid);
    assert_int_equal(write(go[1], "g", 1), 1);
    assert_int_equal(waitpid(child, NULL, 0), child);
    /* The child's unlock removed its file: free now. */
    assert_listing(dir, "");
    assert_int_equal(kpi_outdir_lock(out, false, &a, &err), 0);
    kpi_outdir_unlock(&a);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

/* Whatever a user put at OUT.lock is refused and left exactly as it was. */
static void test_outdir_lock_refuses_what_is_in_the_way(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], lockfile[SCRATCH_PATH_MAX + 16];
    char other[SCRATCH_PATH_MAX];
    struct kpi_outdir_lock l = KPI_OUTDIR_LOCK_INIT;
    struct kpi_error err = {0};
    struct stat st;
    (void)state;

    scratch_fresh_subdir(dir, tmp, "in-the-way");
    scratch_join(out, dir, "out");
    snprintf(lockfile, sizeof lockfile, "%s.lock", out);

    /* A user's file. */
    scratch_write(lockfile, "my notes\n");
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), KPI_EUSAGE);
    assert_int_equal(l.fd, -1);
    assert_contains(err.message, lockfile);
    char *text = read_text(lockfile);
    assert_string_equal(text, "my notes\n");
    free(text);
    /* Almost a lock file: a word more after the owner line. */
    scratch_write(lockfile, "kpieval-lock 1\npid 1, started 2019-01-01T00:00:00Z\nmore\n");
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), KPI_EUSAGE);
    text = read_text(lockfile);
    assert_string_equal(text, "kpieval-lock 1\npid 1, started 2019-01-01T00:00:00Z\nmore\n");
    free(text);
    assert_int_equal(unlink(lockfile), 0);

    /* A hard link to a file holding exactly what kpieval writes: the
     * other name is a user's, so the file is not kpieval's to remove. */
    scratch_write(scratch_join(other, dir, "keep"), "kpieval-lock 1\npid 999999, started "
                                                    "2019-01-01T00:00:00Z\n");
    assert_int_equal(link(other, lockfile), 0);
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), KPI_EUSAGE);
    assert_int_equal(lstat(lockfile, &st), 0);
    assert_int_equal(st.st_nlink, 2);
    assert_listing(dir, "keep|out.lock");
    assert_int_equal(unlink(lockfile), 0);

    /* A symbolic link, to that same file. */
    assert_int_equal(symlink(other, lockfile), 0);
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), KPI_EUSAGE);
    assert_int_equal(lstat(lockfile, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    text = read_text(other);
    assert_string_equal(text, "kpieval-lock 1\npid 999999, started 2019-01-01T00:00:00Z\n");
    free(text);
    assert_int_equal(unlink(lockfile), 0);

    /* A FIFO: refused without blocking on it. */
    assert_int_equal(mkfifo(lockfile, 0600), 0);
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), KPI_EUSAGE);
    assert_int_equal(lstat(lockfile, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(unlink(lockfile), 0);

    /* A folder. */
    scratch_mkdir(lockfile);
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), KPI_EUSAGE);
    assert_true(scratch_is_dir(lockfile));
    assert_int_equal(rmdir(lockfile), 0);

    assert_listing(dir, "keep");
}

/* A lock file of a run that died (nobody holds its flock) is taken over,
 * both in today's form and in the one before the signature line. */
static void test_outdir_lock_takes_over_a_dead_runs_file(void **state)
{
    static const char *const dead[] = {
        "kpieval-lock 1\npid 4242, started 2019-05-01T10:00:00Z\n",
        "pid 4242, started 2019-05-01T10:00:00Z\n",
    };
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], lockfile[SCRATCH_PATH_MAX + 16];
    char pid[32];
    (void)state;

    scratch_fresh_subdir(dir, tmp, "dead");
    scratch_join(out, dir, "out");
    snprintf(lockfile, sizeof lockfile, "%s.lock", out);
    snprintf(pid, sizeof pid, "\npid %ld, started ", (long)getpid());
    for (size_t i = 0; i < sizeof dead / sizeof dead[0]; i++) {
        struct kpi_outdir_lock l = KPI_OUTDIR_LOCK_INIT;
        struct kpi_error err = {0};
        scratch_write(lockfile, dead[i]);
        if (kpi_outdir_lock(out, false, &l, &err) != 0)
            fail_msg("form %zu: %s", i, err.message);
        char *text = read_text(lockfile);
        assert_contains(text, pid); /* now ours */
        assert_not_contains(text, "4242");
        free(text);
        kpi_outdir_unlock(&l);
        assert_listing(dir, "");
    }
}

/* Unlock removes only the file the lock made: a file put in its place
 * stays. */
static void test_outdir_unlock_removes_only_its_own_file(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], lockfile[SCRATCH_PATH_MAX + 16];
    struct kpi_outdir_lock l = KPI_OUTDIR_LOCK_INIT;
    struct kpi_error err = {0};
    (void)state;

    scratch_fresh_subdir(dir, tmp, "own");
    scratch_join(out, dir, "out");
    snprintf(lockfile, sizeof lockfile, "%s.lock", out);
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), 0);
    /* Someone replaces the file while the run holds it. */
    assert_int_equal(unlink(lockfile), 0);
    scratch_write(lockfile, "someone else's\n");
    kpi_outdir_unlock(&l);
    char *text = read_text(lockfile);
    assert_string_equal(text, "someone else's\n");
    free(text);
    assert_int_equal(unlink(lockfile), 0);
}

/* The folders above OUT that the lock made go again on unlock, deepest
 * first, while empty; folders that existed, or that now hold something,
 * stay. */
static void test_outdir_unlock_removes_the_parents_it_made(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_outdir_lock l = KPI_OUTDIR_LOCK_INIT;
    struct kpi_error err = {0};
    (void)state;

    scratch_fresh_subdir(dir, tmp, "parents");
    scratch_mkdir(scratch_join(path, dir, "a"));
    /* a exists; b, c are made. */
    scratch_join(out, dir, "a/b/c/out");
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), 0);
    assert_int_equal(l.parents_made, 2);
    assert_true(scratch_exists(scratch_join(path, dir, "a/b/c/out.lock")));
    kpi_outdir_unlock(&l);
    assert_listing(dir, "a");
    assert_listing(scratch_join(path, dir, "a"), "");

    /* A run that wrote its report: OUT is in c, so c and b stay. */
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), 0);
    scratch_mkdir(out);
    kpi_outdir_unlock(&l);
    assert_listing(scratch_join(path, dir, "a/b/c"), "out");
    assert_int_equal(rmdir(out), 0);

    /* Something beside OUT in b: c goes, b stays. */
    scratch_join(path, dir, "a/b/c");
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(scratch_join(path, dir, "a/b")), 0);
    assert_int_equal(kpi_outdir_lock(out, false, &l, &err), 0);
    scratch_write(scratch_join(path, dir, "a/b/user.txt"), "x");
    kpi_outdir_unlock(&l);
    assert_listing(scratch_join(path, dir, "a/b"), "user.txt");
}

/* A lock that cannot make every folder above OUT (a level too long for
 * the file system, after one it did make) fails and removes the folders
 * it made: a failed run creates nothing. */
static void test_outdir_lock_failing_midway_leaves_no_parents(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX + 320], level[300];
    struct kpi_outdir_lock l = KPI_OUTDIR_LOCK_INIT;
    struct kpi_error err = {0};
    (void)state;

    scratch_fresh_subdir(dir, tmp, "midway");
    memset(level, 'x', 256); /* NAME_MAX is 255 */
    level[256] = '\0';
    snprintf(out, sizeof out, "%s/new/%s/out", dir, level);
    assert_int_not_equal(kpi_outdir_lock(out, false, &l, &err), 0);
    assert_int_equal(l.fd, -1);
    assert_contains(err.message, out);
    assert_listing(dir, "");
    kpi_outdir_unlock(&l);
    assert_listing(dir, "");
}

/* ---- stage, commit, discard --------------------------------------------- */

/* stage's argument and its result must not be one buffer. */
static const char *arg_of(const char *out)
{
    static char copy[KPI_PATH_MAX];
    snprintf(copy, sizeof copy, "%s", out);
    return copy;
}

static void make_report(const char *dir, const char *content)
{
    scratch_write_in(dir, "report.json", content);
    scratch_write_in(dir, KPI_REPORT_MARKER, "");
}

static void test_outdir_stage_commit_first_and_replace(void **state)
{
    char dir[SCRATCH_PATH_MAX], arg[SCRATCH_PATH_MAX + 16], path[SCRATCH_PATH_MAX + 16];
    char out[KPI_PATH_MAX], staging[KPI_PATH_MAX];
    struct kpi_error err = {0};
    struct stat st;
    (void)state;

    scratch_fresh_subdir(dir, tmp, "commit");
    /* The folders above are made; the staging folder sits beside OUT. */
    snprintf(arg, sizeof arg, "%s/deep/out/", dir);
    assert_int_equal(kpi_outdir_stage(arg, out, staging, &err), 0);
    snprintf(path, sizeof path, "%s/deep/out", dir);
    assert_string_equal(out, path);
    assert_int_equal(strncmp(staging, path, strlen(path)), 0);
    assert_starts_with(staging + strlen(path), ".kpieval-tmp-");
    assert_int_equal(strlen(staging + strlen(path)), strlen(".kpieval-tmp-XXXXXX"));
    assert_int_equal(stat(staging, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    make_report(staging, "first\n");
    assert_int_equal(kpi_outdir_commit(staging, out, &err), 0);
    assert_listing(scratch_join(path, dir, "deep"), "out");
    assert_listing(out, ".kpieval-report|report.json");

    /* Replacing: the new folder in place, nothing beside it. */
    scratch_mkdir(scratch_join(path, out, "olddir"));
    assert_int_equal(kpi_outdir_stage(arg_of(out), out, staging, &err), 0);
    make_report(staging, "second\n");
    assert_int_equal(kpi_outdir_commit(staging, out, &err), 0);
    assert_listing(scratch_join(path, dir, "deep"), "out");
    assert_listing(out, ".kpieval-report|report.json");
    char *text = read_text(scratch_join(path, out, "report.json"));
    assert_string_equal(text, "second\n");
    free(text);
}

/* A process that watches OUT while a commit replaces it never finds it
 * missing: the swap is one rename. */
static void test_outdir_commit_is_atomic(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[KPI_PATH_MAX], staging[KPI_PATH_MAX];
    char marker[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    int status;
    (void)state;

    scratch_fresh_subdir(dir, tmp, "atomic");
    scratch_join(out, dir, "out");
    scratch_mkdir(out);
    make_report(out, "0\n");
    scratch_join(marker, out, KPI_REPORT_MARKER);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Looks for 1 s; exit 1 the moment the report is not there. */
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            if (access(marker, F_OK) != 0)
                _exit(1);
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
                 1000000000L);
        _exit(0);
    }
    for (int i = 0; i < 20; i++) {
        assert_int_equal(kpi_outdir_stage(arg_of(out), out, staging, &err), 0);
        make_report(staging, "n\n");
        assert_int_equal(kpi_outdir_commit(staging, out, &err), 0);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_listing(dir, "out");
}

static void test_outdir_discard_leaves_nothing(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[KPI_PATH_MAX], staging[KPI_PATH_MAX];
    char path[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    (void)state;

    scratch_fresh_subdir(dir, tmp, "discard");
    scratch_join(out, dir, "out");
    scratch_mkdir(out);
    make_report(out, "old\n");
    assert_int_equal(kpi_outdir_stage(arg_of(out), out, staging, &err), 0);
    /* A half-written report with folders in it. */
    make_report(staging, "half\n");
    scratch_mkdir(scratch_join(path, staging, "departments"));
    scratch_write_in(path, "001-a.csv", "x\n");
    scratch_mkdir(scratch_join(path, staging, "departments/deeper"));
    kpi_outdir_discard(staging);
    assert_listing(dir, "out");
    char *text = read_text(scratch_join(path, out, "report.json"));
    assert_string_equal(text, "old\n");
    free(text);

    /* Stage refuses a foreign folder and makes no staging folder. */
    scratch_write_in(scratch_fresh_subdir(path, dir, "foreign"), "notes.txt", "x");
    assert_int_equal(kpi_outdir_stage(path, out, staging, &err), KPI_EUSAGE);
    assert_listing(dir, "foreign|out");
}

/* ---- remove_stale ------------------------------------------------------- */

static void test_outdir_remove_stale(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    (void)state;

    scratch_fresh_subdir(dir, tmp, "stale");
    scratch_join(out, dir, "out");
    scratch_mkdir(out);
    make_report(out, "current\n");
    /* Left by killed runs: two staging folders, one with a subfolder. */
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-tmp-a1B2c3"));
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-tmp-zzzzzz"));
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-tmp-zzzzzz/departments"));
    scratch_write(scratch_join(path, dir, "out.kpieval-tmp-zzzzzz/departments/x.csv"), "x");
    /* Look-alikes that are not: other lengths, other names, other OUT. */
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-tmp-12345"));
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-tmp-1234567"));
    scratch_mkdir(scratch_join(path, dir, "out.old-backup"));
    scratch_mkdir(scratch_join(path, dir, "out2.kpieval-tmp-abcdef"));
    scratch_mkdir(scratch_join(path, dir, "ou.kpieval-tmp-abcdef"));
    scratch_write(scratch_join(path, dir, "out.kpieval-tmp"), "x");
    scratch_write(scratch_join(path, dir, "out.lock"), "x");
    assert_int_equal(kpi_outdir_remove_stale(out), 2);
    assert_listing(dir, "ou.kpieval-tmp-abcdef|out|out.kpieval-tmp|out.kpieval-tmp-12345|"
                        "out.kpieval-tmp-1234567|out.lock|out.old-backup|"
                        "out2.kpieval-tmp-abcdef");
    /* OUT present: an old report beside it is removed, OUT unchanged. */
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-old-qwerty"));
    make_report(path, "older\n");
    assert_int_equal(kpi_outdir_remove_stale(out), 1);
    char *text = read_text(scratch_join(path, out, "report.json"));
    assert_string_equal(text, "current\n");
    free(text);
    assert_false(scratch_exists(scratch_join(path, dir, "out.kpieval-old-qwerty")));
}

/* Killed between the two renames: no OUT, the previous report in
 * OUT.kpieval-old-XXXXXX. It is put back; an incomplete one is not. */
static void test_outdir_remove_stale_puts_back_the_old_report(void **state)
{
    char dir[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    (void)state;

    scratch_fresh_subdir(dir, tmp, "putback");
    scratch_join(out, dir, "out");
    /* Incomplete: neither marker nor report.json. */
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-old-aaaaaa"));
    scratch_write_in(path, "kpis.csv", "id\n");
    /* Complete, by its marker. */
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-old-bbbbbb"));
    scratch_write_in(path, KPI_REPORT_MARKER, "");
    scratch_write_in(path, "kpis.csv", "previous\n");
    scratch_mkdir(scratch_join(path, dir, "out.kpieval-tmp-cccccc"));
    assert_int_equal(kpi_outdir_remove_stale(out), 2);
    assert_listing(dir, "out");
    char *text = read_text(scratch_join(path, out, "kpis.csv"));
    assert_string_equal(text, "previous\n");
    free(text);

    /* By report.json, with a relative OUT. */
    char cwd[SCRATCH_PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(scratch_remove_tree("out"), 0);
    scratch_mkdir("out.kpieval-old-dddddd");
    scratch_write("out.kpieval-old-dddddd/report.json", "{}\n");
    assert_int_equal(kpi_outdir_remove_stale("out"), 0);
    assert_true(scratch_exists("out/report.json"));
    assert_int_equal(chdir(cwd), 0);
    assert_listing(dir, "out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outdir_normalize),
        cmocka_unit_test(test_outdir_check),
        cmocka_unit_test(test_outdir_lock_is_exclusive_and_names_the_pid),
        cmocka_unit_test(test_outdir_lock_busy_names_another_process),
        cmocka_unit_test(test_outdir_lock_refuses_what_is_in_the_way),
        cmocka_unit_test(test_outdir_lock_takes_over_a_dead_runs_file),
        cmocka_unit_test(test_outdir_unlock_removes_only_its_own_file),
        cmocka_unit_test(test_outdir_unlock_removes_the_parents_it_made),
        cmocka_unit_test(test_outdir_lock_failing_midway_leaves_no_parents),
        cmocka_unit_test(test_outdir_stage_commit_first_and_replace),
        cmocka_unit_test(test_outdir_commit_is_atomic),
        cmocka_unit_test(test_outdir_discard_leaves_nothing),
        cmocka_unit_test(test_outdir_remove_stale),
        cmocka_unit_test(test_outdir_remove_stale_puts_back_the_old_report),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
