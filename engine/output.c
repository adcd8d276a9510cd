#include "kpieval/report.h"

#include <assert.h>
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

static int write_marker(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    (void)rep, (void)err;
    fputs("kpieval report folder: kpieval replaces it whole on the next run\n",
          kpi_sink_file(state));
    return 0;
}

#define FILE_SINK(write) kpi_sink_file_prepare, write, kpi_sink_file_commit, kpi_sink_file_abort

/* The reports a run can write (--reports picks some), in the order they
 * are prepared and committed. */
static const struct kpi_sink builtin_sinks[] = {
    {"kpis.csv", KPI_SINK_OPTIONAL, FILE_SINK(kpi_write_kpis_csv)},
    {"departments.csv", KPI_SINK_OPTIONAL, FILE_SINK(kpi_write_departments_csv)},
    {"departments/", KPI_SINK_OPTIONAL, kpi_department_files_prepare, kpi_write_department_files,
     kpi_department_files_commit, kpi_department_files_abort},
    {"report.json", KPI_SINK_OPTIONAL, FILE_SINK(kpi_write_report_json)},
    {"report.html", KPI_SINK_OPTIONAL, FILE_SINK(kpi_write_report_html)},
    {"report.xlsx", KPI_SINK_OPTIONAL | KPI_SINK_ON_REQUEST_ABOVE, kpi_xlsx_prepare, kpi_write_xlsx, kpi_xlsx_commit,
     kpi_xlsx_abort},
    {KPI_SHARD_MODEL, KPI_SINK_PART, FILE_SINK(kpi_write_shard_model)},
    {KPI_REPORT_MARKER, 0, FILE_SINK(write_marker)},
};
#define N_BUILTIN (sizeof builtin_sinks / sizeof builtin_sinks[0])

static const struct kpi_sink *added_sinks[KPI_SINKS_MAX - N_BUILTIN];
static size_t n_added;

const struct kpi_sink *kpi_report_sink(size_t i)
{
    assert(i < kpi_report_sinks());
    return i < N_BUILTIN ? &builtin_sinks[i] : added_sinks[i - N_BUILTIN];
}

size_t kpi_report_sinks(void)
{
    return N_BUILTIN + n_added;
}

int kpi_report_add_sink(const struct kpi_sink *sink, struct kpi_error *err)
{
    if (n_added == sizeof added_sinks / sizeof added_sinks[0])
        return kpi_error_set(err, KPI_ELIMIT, "%s: no room for another sink (%d in all)",
                             sink->name, KPI_SINKS_MAX);
    added_sinks[n_added++] = sink;
    return 0;
}

/* True when name[0..len) names sink s: "departments" too for "departments/". */
static bool names_sink(const char *name, size_t len, const struct kpi_sink *s)
{
    size_t sl = strlen(s->name);
    return (len == sl && !strncmp(name, s->name, len)) ||
           (s->name[sl - 1] == '/' && len == sl - 1 && !strncmp(name, s->name, len));
}

static int select_sinks(const char *list, unsigned *mask, struct kpi_error *err)
{
    size_t n = kpi_report_sinks();

    *mask = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ","), i = 0;
        for (; i < n; i++)
            if ((kpi_report_sink(i)->flags & KPI_SINK_OPTIONAL) &&
                names_sink(p, len, kpi_report_sink(i)))
                break;
        if (i == n) {
            char names[512] = "";
            size_t used = 0;
            for (size_t k = 0; k < n && used < sizeof names; k++)
                if (kpi_report_sink(k)->flags & KPI_SINK_OPTIONAL)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                             used ? ", " : "", kpi_report_sink(k)->name);
            return kpi_error_set(err, KPI_EUSAGE, "unknown report '%.*s'; choose from %s",
                                 (int)(len > 64 ? 64 : len), p, names);
        }
        *mask |= 1u << i;
        p += len;
        if (*p == ',' && !*++p)
            return kpi_error_set(err, KPI_EUSAGE, "trailing ','");
    }
    if (!*mask)
        return kpi_error_set(err, KPI_EUSAGE, "no report named");
    return 0;
}

int kpi_report_select(const char *list, unsigned *mask, struct kpi_error *err)
{
    return kpi_error_setting(err, select_sinks(list, mask, err), KPI_SETTING_REPORTS);
}

/* A KPI's row in a view of a whole dataset: its place in the dataset. */
static size_t find_in_dataset(const struct kpi_report *rep, const char *id)
{
    const struct kpi_indicator *k = kpi_dataset_find(rep->find_ctx, id);
    return k ? (size_t)(k - rep->kpis) : SIZE_MAX;
}

void kpi_report_init(struct kpi_report *rep, const kpi_dataset *ds, const struct kpi_result *rows,
                     const struct kpi_department_summary *summaries,
                     const struct kpi_department_summary *overall,
                     const struct kpi_report_params *params)
{
    memset(rep, 0, sizeof *rep);
    rep->kpis = kpi_dataset_indicators(ds, &rep->n_kpis);
    rep->rows = rows;
    rep->departments = kpi_dataset_departments(ds, &rep->n_departments);
    rep->summaries = summaries;
    rep->departments_total = kpi_dataset_departments_total(ds);
    rep->overall = overall;
    rep->extra_columns = kpi_dataset_extra_columns(ds, &rep->n_extra_columns);
    rep->warnings = kpi_dataset_warnings(ds, &rep->n_warnings, &rep->warnings_total);
    rep->params = params;
    rep->find = find_in_dataset;
    rep->find_ctx = ds;
}

/* The state of a one-file sink. */
struct file_sink {
    FILE *f;
    const char *name;
};

int kpi_sink_file_prepare(const struct kpi_sink *self, const struct kpi_report *rep,
                          const char *dir, void **state, struct kpi_error *err)
{
    struct file_sink *fs = malloc(sizeof *fs);
    (void)rep;
    if (!fs)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    fs->name = self->name;
    if (!(fs->f = kpi_output_open(dir, self->name, err))) {
        free(fs);
        return err ? err->code : KPI_EIO;
    }
    *state = fs;
    return 0;
}

FILE *kpi_sink_file(void *state)
{
    return ((struct file_sink *)state)->f;
}

int kpi_sink_file_commit(void *state, struct kpi_error *err)
{
    struct file_sink *fs = state;
    int rc = kpi_output_close(fs->f, fs->name, err);
    free(fs);
    return rc;
}

void kpi_sink_file_abort(void *state)
{
    struct file_sink *fs = state;
    fclose(fs->f);
    free(fs);
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

void kpi_report_subtree(const struct kpi_report *rep, size_t d, size_t from, size_t *first,
                        size_t *end)
{
    const struct kpi_indicator *ks = rep->kpis;
    const struct kpi_department *deps = rep->departments;
    size_t n_kpis = rep->n_kpis, end_dep = d + 1;

    assert(d < rep->n_departments && from <= n_kpis);
    while (from < n_kpis && ks[from].department_id < d)
        from++;
    while (end_dep < rep->n_departments && deps[end_dep].depth > deps[d].depth)
        end_dep++;
    *first = *end = from;
    while (*end < n_kpis && ks[*end].department_id < end_dep)
        ++*end;
}

/* ---- writing the reports in parallel ------------------------------------ */

/* The sinks are independent of each other, so each is written by the
 * first free thread; the biggest (the table's last optional ones) go
 * first. */
struct write_job {
    const struct kpi_report *rep;
    const struct kpi_sink *sink[KPI_SINKS_MAX];
    void *state[KPI_SINKS_MAX];
    bool prepared[KPI_SINKS_MAX];
    size_t n;
    atomic_size_t next;
    atomic_int failed;
    int rc[KPI_SINKS_MAX];
    struct kpi_error err[KPI_SINKS_MAX];
};

static void *write_some(void *arg)
{
    struct write_job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(&j->failed))
            break;
        j->rc[i] = j->sink[i]->write(j->rep, j->state[i], &j->err[i]);
        if (j->rc[i])
            atomic_store(&j->failed, 1);
    }
    return NULL;
}

static bool selected(const struct kpi_report *rep, size_t i, const struct kpi_sink *s)
{
    bool named = rep->params->reports & (1u << i);
    if (s->flags & KPI_SINK_PART)
        return rep->params->shard_count > 0;
    if ((s->flags & KPI_SINK_ON_REQUEST_ABOVE) &&
        (rep->n_kpis > KPI_SINK_DEFAULT_KPIS_MAX || rep->params->shard_count > 0))
        return named;
    return !(s->flags & KPI_SINK_OPTIONAL) || !rep->params->reports || named;
}

/* Prepares every selected sink in dir, writes them (in parallel), commits
 * them; on any failure aborts the ones not yet committed. */
static int write_all(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    size_t n_threads = rep->params->threads ? rep->params->threads : 1;
    size_t n_sinks = kpi_report_sinks();
    struct write_job *j = calloc(1, sizeof *j);
    pthread_t threads[KPI_SINKS_MAX];
    size_t started = 0, committed = 0;
    int rc = 0;

    if (!j)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    j->rep = rep;
    atomic_init(&j->next, 0);
    atomic_init(&j->failed, 0);
    /* The built-in optional reports, the table's last (largest) first,
     * then the rest in table order. */
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < n_sinks; k++) {
            size_t i = pass == 0 ? n_sinks - 1 - k : k;
            const struct kpi_sink *s = kpi_report_sink(i);
            bool early = i < N_BUILTIN && (s->flags & KPI_SINK_OPTIONAL);
            if ((pass == 0) == early && selected(rep, i, s))
                j->sink[j->n++] = s;
        }
    for (size_t i = 0; i < j->n && !rc; i++) {
        rc = j->sink[i]->prepare(j->sink[i], rep, dir, &j->state[i], err);
        j->prepared[i] = rc == 0;
    }
    if (!rc) {
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
    }
    for (; committed < j->n && !rc; committed++) {
        j->prepared[committed] = false; /* a commit lets go of its state either way */
        rc = j->sink[committed]->commit(j->state[committed], err);
    }
    for (size_t i = 0; i < j->n; i++)
        if (j->prepared[i])
            j->sink[i]->abort(j->state[i]);
    free(j);
    return rc;
}

int kpi_report_write(const struct kpi_report *rep, const char *out_arg, struct kpi_error *err)
{
    char out_dir[KPI_PATH_MAX], staging[KPI_PATH_MAX];
    int rc = kpi_outdir_stage(out_arg, out_dir, staging, err);

    if (rc)
        return rc;
    rc = write_all(rep, staging, err);
    if (rc)
        kpi_outdir_discard(staging);
    else
        rc = kpi_outdir_commit(staging, out_dir, err);
    return rc;
}
