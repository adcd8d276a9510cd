/*
 * shard.c - partial reports (`run --shard I/N`) and `kpieval merge`.
 *
 * A partial report is an ordinary report of the KPIs under the top-level
 * departments of one shard, plus shard.txt: for each top-level department
 * (a "block"), its exact totals and the byte ranges of its rows in
 * kpis.csv, departments.csv and report.json. Department file names carry
 * their number in the whole tree already. Merging is then splicing: the
 * blocks of all parts in tree order, between a head and a tail that every
 * part shares, with the counts and the overall figure added up from the
 * blocks' totals in the same order a whole run adds them (rollup.c). So a
 * merged report is byte-identical to the report of one whole run.
 *
 * shard.txt is line based; names are hex encoded and numbers that must
 * survive exactly are hexadecimal floating point (%a):
 *   kpieval-shard 1
 *   shard I N
 *   run HASH                      (the input files and the parameters)
 *   departments TOTAL
 *   sizes KPIS_CSV DEPARTMENTS_CSV REPORT_JSON   (-1: not written)
 *   report.json HEAD_END TAIL_START
 *   grade NAME_HEX MIN            (one per band, highest first)
 *   block PATH_HEX DEPS KPIS OK MISSING ERROR INVALID WEIGHT WEIGHTED
 *         KCSV_START KCSV_END DCSV_START DCSV_END JK_START JK_END JD_START JD_END
 */
#include "kpieval/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpieval/score.h"
#include "input_file.h"
#include "writers.h"

#define MANIFEST "shard.txt"
#define MANIFEST_LINE_MAX 8192

int kpi_shard_layout_build(const kpi_dataset *ds, struct kpi_shard_layout *layout)
{
    size_t n_deps, n_kpis, n = 0, k = 0;
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n_deps);
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_kpis);

    memset(layout, 0, sizeof *layout);
    for (size_t d = 0; d < n_deps; d++)
        n += deps[d].depth == 0;
    layout->blocks = calloc(n ? n : 1, sizeof *layout->blocks);
    if (!layout->blocks)
        return -1;
    for (size_t d = 0; d < n_deps; d++) {
        if (deps[d].depth != 0)
            continue;
        struct kpi_shard_block *b = &layout->blocks[layout->n_blocks++];
        size_t end = d + 1;
        while (end < n_deps && deps[end].depth > 0)
            end++;
        b->first_dep = d;
        b->end_dep = end;
        b->first_kpi = k;
        while (k < n_kpis && ks[k].department_id < end)
            k++;
        b->end_kpi = k;
    }
    return 0;
}

/* A 64-bit hash of bytes, a word at a time: enough to tell the inputs of
 * two runs apart, not a defence against forgery. */
static uint64_t hash_bytes(uint64_t h, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        p += 8, n -= 8;
    }
    while (n--)
        h = (h ^ *p++) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_file(uint64_t h, const char *path)
{
    static const size_t chunk = 1u << 20;
    unsigned char *buf = malloc(chunk);
    int fd = kpi_input_open(path, path, KPI_EINPUT, NULL, NULL);
    ssize_t got;
    if (buf && fd >= 0)
        while ((got = read(fd, buf, chunk)) > 0)
            h = hash_bytes(h, buf, (size_t)got);
    h = hash_bytes(h, (const unsigned char *)"|", 1);
    if (fd >= 0)
        close(fd);
    free(buf);
    return h;
}

/* What makes two partial reports parts of one run: the same input files
 * and every parameter that changes a report. */
static uint64_t run_identity(const struct kpi_report_params *p)
{
    char text[512];
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t dlen = strlen(p->dataset);
    char *path = malloc(dlen + sizeof "/indicators.csv");
    if (path) {
        snprintf(path, dlen + sizeof "/indicators.csv", "%s/indicators.csv", p->dataset);
        h = hash_file(h, path);
        snprintf(path, dlen + sizeof "/indicators.csv", "%s/actuals.csv", p->dataset);
        h = hash_file(h, path);
        free(path);
    }
    int n = snprintf(text, sizeof text, "%s|%a|%llu|%zu|%a|%u|%u|", p->period ? p->period : "",
                     p->cap, (unsigned long long)p->instruction_limit, p->memory_limit,
                     p->time_limit, p->reports, p->shard_count);
    h = hash_bytes(h, (const unsigned char *)text, (size_t)n);
    for (size_t i = 0; i < p->grades->n; i++) {
        n = snprintf(text, sizeof text, "%s:%a,", p->grades->bands[i].name,
                     p->grades->bands[i].min);
        h = hash_bytes(h, (const unsigned char *)text, (size_t)n);
    }
    for (size_t i = 0; i < p->n_plugin_dirs; i++)
        h = hash_bytes(h, (const unsigned char *)p->plugin_dirs[i], strlen(p->plugin_dirs[i]) + 1);
    return h;
}

/* Size of DIR/NAME, -1 when it was not written. */
static long file_size(const char *dir, const char *name)
{
    char path[KPI_PATH_MAX + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void put_hex(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(f, "%02x", *p);
}

int kpi_write_shard_manifest(const struct kpi_report *rep, const char *dir,
                             struct kpi_error *err)
{
    const struct kpi_shard_layout *L = rep->layout;
    const struct kpi_report_params *p = rep->params;
    size_t n_deps;
    const struct kpi_department *deps = kpi_dataset_departments(rep->ds, &n_deps);
    FILE *f;

    if (!L)
        return 0;
    if (!(f = kpi_output_open(dir, MANIFEST, err)))
        return err ? err->code : KPI_EIO;
    fprintf(f, "kpieval-shard 1\nshard %u %u\nrun %016" PRIx64 "\ndepartments %zu\n",
            p->shard_index, p->shard_count, run_identity(p),
            kpi_dataset_departments_total(rep->ds));
    fprintf(f, "sizes %ld %ld %ld\nreport.json %ld %ld\n", file_size(dir, "kpis.csv"),
            file_size(dir, "departments.csv"), file_size(dir, "report.json"), L->json_head_end,
            L->json_tail_start);
    for (size_t i = 0; i < p->grades->n; i++) {
        fputs("grade ", f);
        put_hex(f, p->grades->bands[i].name);
        fprintf(f, " %a\n", p->grades->bands[i].min);
    }
    for (size_t i = 0; i < L->n_blocks; i++) {
        const struct kpi_shard_block *b = &L->blocks[i];
        const struct kpi_department_summary *s = &rep->departments[b->first_dep];
        fputs("block ", f);
        put_hex(f, deps[b->first_dep].path);
        fprintf(f, " %zu %u %u %u %u %u %a %a %ld %ld %ld %ld %ld %ld %ld %ld\n",
                b->end_dep - b->first_dep, s->kpis, s->count[KPI_STATUS_OK],
                s->count[KPI_STATUS_MISSING], s->count[KPI_STATUS_ERROR],
                s->count[KPI_STATUS_INVALID], s->weight, s->weighted, b->kpis_csv[0],
                b->kpis_csv[1], b->departments_csv[0], b->departments_csv[1], b->json_kpis[0],
                b->json_kpis[1], b->json_departments[0], b->json_departments[1]);
    }
    return kpi_output_close(f, MANIFEST, err);
}

/* ---- merge -------------------------------------------------------------- */

struct block {
    char *path;
    size_t part;
    struct kpi_department_summary sum;
    long range[4][2]; /* kpis.csv, departments.csv, report.json kpis, departments */
};

struct part {
    const char *dir;
    unsigned index, count;
    uint64_t run;
    long size[3]; /* kpis.csv, departments.csv, report.json; -1: not written */
    size_t departments;
    long head_end, tail_start;
    struct kpi_grades grades;
    int fd[3]; /* kpis.csv, departments.csv, report.json */
};

struct merge {
    struct part *parts;
    size_t n_parts;
    struct block *blocks;
    size_t n_blocks, cap_blocks;
    char *buf;
    bool has[4]; /* kpis.csv, departments.csv, report.json, departments/ */
};

enum { F_KPIS, F_DEPARTMENTS, F_JSON };
static const char *const part_files[3] = {"kpis.csv", "departments.csv", "report.json"};

static int unhex(const char *hex, char **out)
{
    size_t n = strlen(hex);
    char *s;
    if (n % 2 || !(s = malloc(n / 2 + 1)))
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || v == 0) {
            free(s);
            return -1;
        }
        s[i] = (char)v;
    }
    s[n / 2] = '\0';
    *out = s;
    return 0;
}

/* Totals of a block as a run can write them: counts that add up, and sums
 * within the bounds of weight and achievement (score.h), with room for
 * rounding. A manifest is input: a forged inf or 1e308 must not reach the
 * overall figure, whose sum it would overflow. */
static bool block_totals_ok(const struct kpi_department_summary *s)
{
    unsigned long long counted = 0;
    double ok = s->count[KPI_STATUS_OK], slack = 1 + 1e-6;
    for (int k = 0; k < KPI_STATUS_COUNT; k++)
        counted += s->count[k];
    return counted == s->kpis && isfinite(s->weight) && isfinite(s->weighted) &&
           s->weight >= 0 && s->weight <= ok * KPI_WEIGHT_MAX * slack &&
           fabs(s->weighted) <= ok * KPI_WEIGHT_MAX * KPI_ACHIEVEMENT_MAX * slack;
}

static int read_manifest(struct merge *m, size_t pi, struct kpi_error *err)
{
    struct part *p = &m->parts[pi];
    char path[KPI_PATH_MAX + 16], line[MANIFEST_LINE_MAX], word[MANIFEST_LINE_MAX];
    unsigned lineno = 0;
    FILE *f;
    int rc = 0, fd;

    snprintf(path, sizeof path, "%s/" MANIFEST, p->dir);
    fd = kpi_input_open(path, path, KPI_EINPUT, NULL, err);
    if (fd == KPI_EIO)
        return kpi_error_set(err, KPI_EINPUT,
                             "%s: not a partial report (%s); make parts with run --shard I/N",
                             p->dir, errno == ENOENT ? "no " MANIFEST : strerror(errno));
    if (fd < 0)
        return fd;
    if (!(f = fdopen(fd, "r"))) {
        close(fd);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n')) {
            rc = -1;
            break;
        }
        if (lineno == 1) {
            rc = strcmp(line, "kpieval-shard 1\n") ? -1 : 0;
        } else if (!strncmp(line, "shard ", 6)) {
            rc = sscanf(line, "shard %u %u", &p->index, &p->count) == 2 ? 0 : -1;
        } else if (!strncmp(line, "run ", 4)) {
            rc = sscanf(line, "run %" SCNx64, &p->run) == 1 ? 0 : -1;
        } else if (!strncmp(line, "sizes ", 6)) {
            rc = sscanf(line, "sizes %ld %ld %ld", &p->size[0], &p->size[1], &p->size[2]) == 3
                     ? 0
                     : -1;
        } else if (!strncmp(line, "departments ", 12)) {
            rc = sscanf(line, "departments %zu", &p->departments) == 1 ? 0 : -1;
        } else if (!strncmp(line, "report.json ", 12)) {
            rc = sscanf(line, "report.json %ld %ld", &p->head_end, &p->tail_start) == 2 ? 0 : -1;
        } else if (!strncmp(line, "grade ", 6)) {
            struct kpi_grade_band *band = &p->grades.bands[p->grades.n];
            char *name = NULL;
            rc = -1;
            if (p->grades.n < KPI_GRADES_MAX &&
                sscanf(line, "grade %s %la", word, &band->min) == 2 && !unhex(word, &name)) {
                if (strlen(name) < sizeof band->name) {
                    strcpy(band->name, name);
                    p->grades.n++;
                    rc = 0;
                }
                free(name);
            }
        } else if (!strncmp(line, "block ", 6)) {
            struct block b = {0};
            size_t deps;
            struct kpi_department_summary *s = &b.sum;
            b.part = pi;
            rc = -1;
            if (sscanf(line,
                       "block %s %zu %u %u %u %u %u %la %la %ld %ld %ld %ld %ld %ld %ld %ld", word,
                       &deps, &s->kpis, &s->count[KPI_STATUS_OK], &s->count[KPI_STATUS_MISSING],
                       &s->count[KPI_STATUS_ERROR], &s->count[KPI_STATUS_INVALID], &s->weight,
                       &s->weighted, &b.range[0][0], &b.range[0][1], &b.range[1][0],
                       &b.range[1][1], &b.range[2][0], &b.range[2][1], &b.range[3][0],
                       &b.range[3][1]) == 17 &&
                block_totals_ok(s) && !unhex(word, &b.path)) {
                if (m->n_blocks == m->cap_blocks) {
                    size_t cap = m->cap_blocks ? 2 * m->cap_blocks : 64;
                    struct block *nb = realloc(m->blocks, cap * sizeof *nb);
                    if (!nb) {
                        free(b.path);
                        fclose(f);
                        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
                    }
                    m->blocks = nb;
                    m->cap_blocks = cap;
                }
                m->blocks[m->n_blocks++] = b;
                rc = 0;
            }
        } else {
            rc = -1;
        }
    }
    fclose(f);
    if (rc || lineno < 6 || p->count < 1 || p->count > KPI_SHARDS_MAX)
        return kpi_error_set(err, KPI_EINPUT, "%s:%u: not a kpieval shard manifest", path,
                             lineno);
    return 0;
}

static int compare_blocks(const void *a, const void *b)
{
    return strcmp(((const struct block *)a)->path, ((const struct block *)b)->path);
}

/* Copies bytes [start, end) of part file fd to f. */
static int copy_range(struct merge *m, int fd, long start, long end, FILE *f)
{
    while (start < end) {
        size_t want = (size_t)(end - start) < (1u << 20) ? (size_t)(end - start) : (1u << 20);
        ssize_t got = pread(fd, m->buf, want, start);
        if (got <= 0)
            return -1;
        if (fwrite(m->buf, 1, (size_t)got, f) != (size_t)got)
            return -1;
        start += got;
    }
    return 0;
}

/* Bytes of the first line of fd, newline included, or -1. */
static long first_line_length(struct merge *m, int fd)
{
    ssize_t got = pread(fd, m->buf, 4096, 0);
    char *nl = got > 0 ? memchr(m->buf, '\n', (size_t)got) : NULL;
    return nl ? (long)(nl - m->buf) + 1 : -1;
}

static int same_bytes(struct merge *m, int fd_a, int fd_b, long a, long b, long len)
{
    char *x = m->buf, *y = m->buf + (1u << 19);
    while (len > 0) {
        size_t want = len < (1L << 19) ? (size_t)len : (1u << 19);
        if (pread(fd_a, x, want, a) != (ssize_t)want || pread(fd_b, y, want, b) != (ssize_t)want)
            return 0;
        if (memcmp(x, y, want))
            return 0;
        a += (long)want, b += (long)want, len -= (long)want;
    }
    return 1;
}

static int write_csv(struct merge *m, int which, const char *staging, struct kpi_error *err)
{
    FILE *f = kpi_output_open(staging, part_files[which], err);
    long header = first_line_length(m, m->parts[0].fd[which]);
    int bad;

    if (!f)
        return err ? err->code : KPI_EIO;
    bad = header < 0 || copy_range(m, m->parts[0].fd[which], 0, header, f);
    for (size_t i = 0; i < m->n_blocks && !bad; i++) {
        const struct block *b = &m->blocks[i];
        bad = copy_range(m, m->parts[b->part].fd[which], b->range[which][0], b->range[which][1],
                         f);
    }
    if (bad) {
        fclose(f);
        return kpi_error_set(err, KPI_EIO, "%s: cannot copy the parts' rows", part_files[which]);
    }
    return kpi_output_close(f, part_files[which], err);
}

static int write_json(struct merge *m, const struct kpi_department_summary *overall,
                      const char *staging, struct kpi_error *err)
{
    const struct part *p0 = &m->parts[0];
    FILE *f = kpi_output_open(staging, "report.json", err);
    struct stat st;
    int bad;

    if (!f)
        return err ? err->code : KPI_EIO;
    bad = fstat(p0->fd[F_JSON], &st) != 0 || copy_range(m, p0->fd[F_JSON], 0, p0->head_end, f);
    kpi_json_put_overall(f, overall);
    for (int arr = 0; arr < 2 && !bad; arr++) {
        fputs(arr ? "  \"departments\": [\n" : "  \"kpis\": [\n", f);
        for (size_t i = 0; i < m->n_blocks && !bad; i++) {
            const struct block *b = &m->blocks[i];
            bad = copy_range(m, m->parts[b->part].fd[F_JSON], b->range[2 + arr][0],
                             b->range[2 + arr][1], f);
            fputs(i + 1 < m->n_blocks ? ",\n" : "\n", f);
        }
        fputs("  ],\n", f);
    }
    if (!bad)
        bad = copy_range(m, p0->fd[F_JSON], p0->tail_start, (long)st.st_size, f);
    if (bad) {
        fclose(f);
        return kpi_error_set(err, KPI_EIO, "report.json: cannot copy the parts' entries");
    }
    return kpi_output_close(f, "report.json", err);
}

/* Hard links where the parts are on the same file system, else copies. */
static int gather_department_files(struct merge *m, const char *staging, struct kpi_error *err)
{
    char to[KPI_PATH_MAX + 600], from[KPI_PATH_MAX + 600];

    snprintf(to, sizeof to, "%s/departments", staging);
    if (mkdir(to, 0777) != 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create: %s", to, strerror(errno));
    for (size_t i = 0; i < m->n_parts; i++) {
        snprintf(from, sizeof from, "%s/departments", m->parts[i].dir);
        DIR *d = opendir(from);
        struct dirent *e;
        if (!d)
            return kpi_error_set(err, KPI_EINPUT, "%s: cannot read: %s", from, strerror(errno));
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(from, sizeof from, "%s/departments/%s", m->parts[i].dir, e->d_name);
            snprintf(to, sizeof to, "%s/departments/%s", staging, e->d_name);
            /* Only a regular file of the part: link() would as gladly link
             * a FIFO or a symbolic link into the report. */
            struct stat st, linked;
            int in = kpi_input_open(from, from, KPI_EINPUT, &st, err);
            if (in < 0) {
                closedir(d);
                return in == KPI_EIO ? kpi_error_set(err, KPI_EIO, "%s: cannot read: %s", from,
                                                     strerror(errno))
                                     : in;
            }
            if (link(from, to) == 0) {
                /* What was linked is what was checked, not a file swapped in. */
                if (lstat(to, &linked) == 0 && linked.st_dev == st.st_dev &&
                    linked.st_ino == st.st_ino) {
                    close(in);
                    continue;
                }
                unlink(to);
                close(in);
                closedir(d);
                return kpi_error_set(err, KPI_EINPUT, "%s: changed while being read", from);
            }
            if (errno == EEXIST) {
                close(in);
                closedir(d);
                return kpi_error_set(err, KPI_EINPUT, "%s: found in two parts", to);
            }
            FILE *out = fopen(to, "wbx");
            int bad = !out || copy_range(m, in, 0, (long)st.st_size, out);
            if (out)
                bad |= fclose(out) != 0;
            close(in);
            if (bad) {
                closedir(d);
                return kpi_error_set(err, KPI_EIO, "%s: cannot copy: %s", from, strerror(errno));
            }
        }
        closedir(d);
    }
    return 0;
}

static int check_parts(struct merge *m, struct kpi_error *err)
{
    const struct part *p0 = &m->parts[0];
    unsigned *seen = calloc(p0->count + 1, sizeof *seen);
    int rc = 0;

    if (!seen)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_parts && !rc; i++) {
        const struct part *p = &m->parts[i];
        if (p->run != p0->run || p->count != p0->count || p->departments != p0->departments ||
            p->grades.n != p0->grades.n ||
            memcmp(&p->grades, &p0->grades, sizeof p->grades) != 0)
            rc = kpi_error_set(err, KPI_EINPUT,
                               "%s: is a shard of another run than %s (other input files or "
                               "options)",
                               p->dir, p0->dir);
        else if (p->index < 1 || p->index > p->count)
            rc = kpi_error_set(err, KPI_EINPUT, "%s: shard %u of %u is out of range", p->dir,
                               p->index, p->count);
        else if (seen[p->index]++)
            rc = kpi_error_set(err, KPI_EINPUT, "%s: shard %u of %u is given twice", p->dir,
                               p->index, p->count);
        else if (m->has[F_JSON] &&
                 (p->head_end != p0->head_end ||
                  !same_bytes(m, p->fd[F_JSON], p0->fd[F_JSON], 0, 0, p->head_end)))
            rc = kpi_error_set(err, KPI_EINPUT,
                               "%s: made with other parameters than %s (report.json differs)",
                               p->dir, p0->dir);
    }
    for (unsigned s = 1; s <= p0->count && !rc; s++)
        if (!seen[s])
            rc = kpi_error_set(err, KPI_EINPUT, "shard %u of %u is missing", s, p0->count);
    free(seen);
    if (rc)
        return rc;
    /* Every file as long as its manifest says, every range inside it: a
     * truncated or edited part is refused, not spliced. */
    for (size_t i = 0; i < m->n_parts; i++) {
        const struct part *p = &m->parts[i];
        for (int k = 0; k < 3; k++) {
            struct stat st;
            if (p->fd[k] < 0 ? p->size[k] != -1
                             : fstat(p->fd[k], &st) != 0 || st.st_size != p->size[k])
                return kpi_error_set(err, KPI_EINPUT, "%s/%s: changed since its run wrote it",
                                     p->dir, part_files[k]);
        }
        if (m->has[F_JSON] &&
            (p->head_end < 0 || p->head_end > p->tail_start || p->tail_start > p->size[F_JSON] ||
             !same_bytes(m, p->fd[F_JSON], p0->fd[F_JSON], p->tail_start, p0->tail_start,
                         p->size[F_JSON] - p->tail_start) ||
             p->size[F_JSON] - p->tail_start != p0->size[F_JSON] - p0->tail_start))
            return kpi_error_set(err, KPI_EINPUT, "%s/report.json: does not match %s's",
                                 p->dir, p0->dir);
    }
    for (size_t i = 0; i < m->n_blocks; i++) {
        const struct block *b = &m->blocks[i];
        const struct part *p = &m->parts[b->part];
        for (int r = 0; r < 4; r++) {
            long size = p->size[r < 2 ? r : F_JSON];
            bool used = r < 2 ? m->has[r] : m->has[F_JSON];
            if (used && (b->range[r][0] < 0 || b->range[r][0] > b->range[r][1] ||
                         b->range[r][1] > size))
                return kpi_error_set(err, KPI_EINPUT, "%s/shard.txt: a range outside its file",
                                     p->dir);
        }
    }
    qsort(m->blocks, m->n_blocks, sizeof *m->blocks, compare_blocks);
    for (size_t i = 1; i < m->n_blocks; i++)
        if (!strcmp(m->blocks[i - 1].path, m->blocks[i].path))
            return kpi_error_set(err, KPI_EINPUT, "department '%s' is in two parts",
                                 m->blocks[i].path);
    return 0;
}

int kpi_report_merge(const char *out_arg, const char *const *dirs, size_t n_dirs,
                     struct kpi_grades *grades, struct kpi_department_summary *overall,
                     struct kpi_error *err)
{
    struct merge m = {0};
    struct kpi_outdir_lock lock = KPI_OUTDIR_LOCK_INIT;
    char out[KPI_PATH_MAX], out_dir[KPI_PATH_MAX], staging[KPI_PATH_MAX];
    char path[KPI_PATH_MAX + 32];
    int rc = 0;

    memset(overall, 0, sizeof *overall);
    memset(grades, 0, sizeof *grades);
    if (kpi_outdir_normalize(out_arg, out))
        return kpi_error_set(err, KPI_EUSAGE, "%s: path too long", out_arg);
    if (!n_dirs)
        return kpi_error_set(err, KPI_EUSAGE, "merge: no partial reports given");
    m.parts = calloc(n_dirs, sizeof *m.parts);
    m.buf = malloc(1u << 20);
    if (!m.parts || !m.buf) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_dirs; i++)
        for (int k = 0; k < 3; k++)
            m.parts[i].fd[k] = -1;
    m.n_parts = n_dirs;
    for (size_t i = 0; i < n_dirs && !rc; i++) {
        m.parts[i].dir = dirs[i];
        rc = read_manifest(&m, i, err);
        /* --reports may have left some files out, the same in every part. */
        for (int k = 0; k < 4 && !rc; k++) {
            snprintf(path, sizeof path, "%s/%s", dirs[i], k < 3 ? part_files[k] : "departments");
            /* Regular files, and the departments folder, not links: a FIFO
             * would block the merge, which holds the lock. */
            int fd = k < 3
                         ? kpi_input_open(path, path, KPI_EINPUT, NULL, err)
                         : open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK);
            if (k < 3 && fd < 0 && fd != KPI_EIO) {
                rc = fd; /* refused, err filled */
                break;
            }
            if (fd < 0)
                fd = -1;
            if (fd < 0 && k == 3 && (errno == ENOTDIR || errno == ELOOP))
                rc = kpi_error_set(err, KPI_EINPUT, "%s: not a folder", path);
            else if (fd < 0 && errno != ENOENT)
                rc = kpi_error_set(err, KPI_EINPUT, "%s: cannot read: %s", path,
                                   strerror(errno));
            else if (i > 0 && (fd >= 0) != m.has[k])
                rc = kpi_error_set(err, KPI_EINPUT, "%s: %s in this part but not in %s", path,
                                   fd >= 0 ? "present" : "missing", dirs[0]);
            if (i == 0)
                m.has[k] = fd >= 0;
            if (k < 3)
                m.parts[i].fd[k] = fd;
            else if (fd >= 0)
                close(fd);
        }
    }
    if (!rc)
        rc = check_parts(&m, err);
    if (rc)
        goto out;

    /* The totals, added as a whole run adds them (rollup.c). */
    for (size_t i = 0; i < m.n_blocks; i++) {
        const struct kpi_department_summary *s = &m.blocks[i].sum;
        overall->kpis += s->kpis;
        for (int k = 0; k < KPI_STATUS_COUNT; k++)
            overall->count[k] += s->count[k];
        overall->weight += s->weight;
        overall->weighted += s->weighted;
    }
    *grades = m.parts[0].grades; /* the caller's: overall->grade points into it */
    kpi_rollup_finish(overall, grades);

    if ((rc = kpi_outdir_lock(out, false, &lock, err)))
        goto out;
    kpi_outdir_remove_stale(out);
    if ((rc = kpi_outdir_stage(out, out_dir, staging, err)))
        goto out;
    if (m.has[F_KPIS])
        rc = write_csv(&m, F_KPIS, staging, err);
    if (!rc && m.has[F_DEPARTMENTS])
        rc = write_csv(&m, F_DEPARTMENTS, staging, err);
    if (!rc && m.has[3])
        rc = gather_department_files(&m, staging, err);
    if (!rc && m.has[F_JSON])
        rc = write_json(&m, overall, staging, err);
    if (!rc)
        rc = kpi_write_marker(NULL, staging, err);
    if (rc)
        kpi_outdir_discard(staging);
    else
        rc = kpi_outdir_commit(staging, out_dir, err);
out:
    kpi_outdir_unlock(&lock);
    for (size_t i = 0; m.parts && i < m.n_parts; i++)
        for (int k = 0; k < 3; k++)
            if (m.parts[i].fd[k] >= 0)
                close(m.parts[i].fd[k]);
    for (size_t i = 0; i < m.n_blocks; i++)
        free(m.blocks[i].path);
    free(m.blocks);
    free(m.parts);
    free(m.buf);
    return rc;
}
