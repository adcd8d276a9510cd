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
    rc = kpi_outdir_stage(out_arg, out_dir, staging, err);
    if (rc)
        goto out;
    rc = write_all(&rep, staging, err);
    if (rc)
        kpi_outdir_discard(staging);
    else
        rc = kpi_outdir_commit(staging, out_dir, err);
out:
    free(layout.blocks);
    return rc;
}
