/*
 * merge.c - `kpieval merge`: one report from the partial reports of a
 * sharded run.
 *
 * Loads every part's model (part.h), checks that they are every shard of
 * one run, puts the parts' top-level departments back in tree order, rolls
 * the KPIs up again (rollup.c, in the order a whole run adds them) and
 * writes the result through the same sinks table as a whole run. So a
 * merged report is byte-identical to the report of one whole run, every
 * sink's output included, and no part file but shard.txt is read.
 */
#include "kpieval/report.h"

#include <stdlib.h>
#include <string.h>

#include "part.h"
#include "strmap.h"

/* ---- merging ------------------------------------------------------------ */

/* A top-level department with everything beneath it, in one part. */
struct block {
    const struct part *part;
    size_t first_dep, end_dep, first_kpi, end_kpi;
};

static int compare_blocks(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    unsigned nx = x->part->deps[x->first_dep].number, ny = y->part->deps[y->first_dep].number;
    return nx < ny ? -1 : nx > ny;
}

/* Every shard of one run, once: the parts agree on the run and its
 * --reports, and no shard is missing. */
static int check_parts(const struct part *parts, size_t n, struct kpi_error *err)
{
    unsigned count = parts[0].count;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].count != count || parts[i].run != parts[0].run ||
            parts[i].has_provenance != parts[0].has_provenance ||
            (parts[i].has_provenance &&
             !kpi_provenance_same_inputs(&parts[i].provenance, &parts[0].provenance)))
            return kpi_error_set(err, KPI_EINPUT,
                                 "%s: a part of another run (other input files or options) "
                                 "than %s",
                                 parts[i].dir, parts[0].dir);
        if (parts[i].reports != parts[0].reports) {
            kpi_error_set(err, KPI_EINPUT, "%s: made with another choice of reports than %s",
                          parts[i].dir, parts[0].dir);
            return kpi_error_setting(err, KPI_EINPUT, KPI_SETTING_REPORTS);
        }
        for (size_t j = 0; j < i; j++)
            if (parts[j].index == parts[i].index)
                return kpi_error_set(err, KPI_EINPUT, "shard %u of %u given twice (%s and %s)",
                                     parts[i].index, count, parts[j].dir, parts[i].dir);
    }
    for (unsigned s = 1; s <= count; s++) {
        size_t i = 0;
        while (i < n && parts[i].index != s)
            i++;
        if (i == n)
            return kpi_error_set(err, KPI_EINPUT, "shard %u of %u is missing", s, count);
    }
    return 0;
}

/* The merged model: every part's blocks in tree order, indices remapped. */
struct merged {
    struct kpi_indicator *kpis;
    struct kpi_result *rows;
    size_t n_kpis;
    struct kpi_department *deps;
    struct kpi_department_summary *summaries;
    size_t n_deps;
};

static int gather(const struct part *parts, size_t n_parts, struct merged *m,
                  struct kpi_error *err)
{
    size_t n_blocks = 0, n_kpis = 0, n_deps = 0, b = 0;
    struct block *blocks;

    for (size_t i = 0; i < n_parts; i++) {
        n_kpis += parts[i].n_kpis;
        n_deps += parts[i].n_deps;
        for (size_t d = 0; d < parts[i].n_deps; d++)
            n_blocks += parts[i].deps[d].depth == 0;
    }
    blocks = calloc(n_blocks ? n_blocks : 1, sizeof *blocks);
    m->kpis = calloc(n_kpis ? n_kpis : 1, sizeof *m->kpis);
    m->rows = calloc(n_kpis ? n_kpis : 1, sizeof *m->rows);
    m->deps = calloc(n_deps ? n_deps : 1, sizeof *m->deps);
    m->summaries = calloc(n_deps ? n_deps : 1, sizeof *m->summaries);
    if (!blocks || !m->kpis || !m->rows || !m->deps || !m->summaries) {
        free(blocks);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_parts; i++) {
        const struct part *p = &parts[i];
        for (size_t d = 0, k = 0; d < p->n_deps; d++) {
            if (p->deps[d].depth != 0)
                continue;
            struct block *bl = &blocks[b++];
            bl->part = p;
            bl->first_dep = d;
            bl->end_dep = d + 1;
            while (bl->end_dep < p->n_deps && p->deps[bl->end_dep].depth > 0)
                bl->end_dep++;
            while (k < p->n_kpis && p->kpis[k].department_id < d)
                k++;
            bl->first_kpi = k;
            while (k < p->n_kpis && p->kpis[k].department_id < bl->end_dep)
                k++;
            bl->end_kpi = k;
        }
    }
    qsort(blocks, n_blocks, sizeof *blocks, compare_blocks);
    for (b = 0; b < n_blocks; b++) {
        const struct block *bl = &blocks[b];
        size_t base = m->n_deps;
        if (b && compare_blocks(&blocks[b - 1], bl) == 0) {
            int rc = kpi_error_set(err, KPI_EINPUT, "department '%s' is in two parts",
                                   bl->part->deps[bl->first_dep].path);
            free(blocks);
            return rc;
        }
        for (size_t d = bl->first_dep; d < bl->end_dep; d++) {
            struct kpi_department *to = &m->deps[m->n_deps++];
            *to = bl->part->deps[d];
            if (to->parent != KPI_NONE)
                to->parent = (unsigned)(base + to->parent - bl->first_dep);
        }
        for (size_t k = bl->first_kpi; k < bl->end_kpi; k++) {
            m->kpis[m->n_kpis] = bl->part->kpis[k];
            m->kpis[m->n_kpis].department_id =
                (unsigned)(base + bl->part->kpis[k].department_id - bl->first_dep);
            m->rows[m->n_kpis++] = bl->part->rows[k];
        }
    }
    free(blocks);
    if (m->n_kpis != n_kpis || m->n_deps != n_deps)
        return kpi_error_set(err, KPI_EINPUT, "%s: KPIs outside the department tree",
                             parts[0].dir);
    return 0;
}

/* The merged report's provenance in prov: the merge's own version and
 * command (the caller's), the parts' files and settings (the same in every
 * part), started when the first part started, finished now. */
static int merge_provenance(const struct part *parts, size_t n, struct kpi_provenance *prov,
                            struct kpi_error *err)
{
    const struct kpi_provenance *from = &parts[0].provenance;
    int rc = kpi_provenance_now(prov->started, err);

    for (size_t i = 0; !rc && i < n; i++)
        if (parts[i].has_provenance && *parts[i].provenance.started &&
            strcmp(parts[i].provenance.started, prov->started) < 0)
            memcpy(prov->started, parts[i].provenance.started, KPI_TIME_BUF);
    for (int k = 0; !rc && parts[0].has_provenance && k < KPI_PROVENANCE_KINDS; k++)
        for (size_t i = 0; !rc && i < from->n_files[k]; i++)
            rc = kpi_provenance_add_file(prov, (enum kpi_provenance_kind)k,
                                         from->files[k][i].path, from->files[k][i].sha256,
                                         from->files[k][i].rows, err);
    for (size_t i = 0; !rc && parts[0].has_provenance && i < from->n_settings; i++)
        rc = kpi_provenance_set(prov, from->settings[i].name, from->settings[i].value, err);
    return rc ? rc : kpi_provenance_now(prov->finished, err);
}

/* A KPI's row in the merged view, through the map of its ids. */
static size_t find_merged(const struct kpi_report *rep, const char *id)
{
    unsigned i;
    return kpi_strmap_get(rep->find_ctx, id, &i) ? i : SIZE_MAX;
}

/* Maps the merged KPIs' ids to their rows when one reads another (a shard
 * keeps a KPI with what it reads, so the merged view holds both); else
 * leaves the map empty. 0 or KPI_ENOMEM. */
static int map_ids(const struct merged *m, struct kpi_strmap *ids, struct kpi_error *err)
{
    bool composite = false;
    for (size_t i = 0; i < m->n_kpis && !composite; i++)
        composite = m->kpis[i].n_deps > 0;
    for (size_t i = 0; composite && i < m->n_kpis; i++)
        if (kpi_strmap_put(ids, m->kpis[i].id, (unsigned)i, NULL, NULL) < 0)
            return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    return 0;
}

/* Lines of a KPI's note (its failed warning rules). */
static size_t note_lines(const char *note)
{
    size_t n = 0;
    for (const char *p = note; p && *p; p += strcspn(p, "\n"), p += *p == '\n')
        n++;
    return n;
}

/* The run's warnings as one whole run has them: those of the files and
 * the plugins, the same in every part (the first part's, without its own
 * failed warning rules), then every KPI's failed warning rules in the
 * merged report order; as many kept and counted as a whole run would. */
static int merge_warnings(const struct part *parts, const struct merged *m,
                          struct kpi_arena *a, const char ***out, size_t *n_out, size_t *total,
                          struct kpi_error *err)
{
    size_t own = 0, kept;
    const char **w = kpi_arena_alloc(a, KPI_WARNINGS_KEPT * sizeof *w);

    if (!w)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (size_t k = 0; k < parts[0].n_kpis; k++)
        own += note_lines(parts[0].rows[k].note);
    *total = parts[0].warnings_total > own ? parts[0].warnings_total - own : 0;
    kept = parts[0].n_warnings < *total ? parts[0].n_warnings : *total;
    if (kept) /* parts[0].warnings may be NULL when there are none */
        memcpy(w, parts[0].warnings, kept * sizeof *w);
    for (size_t k = 0; k < m->n_kpis; k++) {
        for (const char *p = m->rows[k].note; p && *p;) {
            size_t len = strcspn(p, "\n");
            ++*total;
            if (kept < KPI_WARNINGS_KEPT && !(w[kept++] = kpi_arena_strndup(a, p, len)))
                return kpi_error_set(err, KPI_ENOMEM, "out of memory");
            p += len + (p[len] == '\n');
        }
    }
    *out = w;
    *n_out = kept;
    return 0;
}

int kpi_report_merge(const char *out_arg, const char *const *dirs, size_t n_dirs,
                     struct kpi_provenance *prov, struct kpi_grades *grades,
                     struct kpi_department_summary *overall, struct kpi_error *err)
{
    struct kpi_outdir_lock lock = KPI_OUTDIR_LOCK_INIT;
    struct kpi_arena arena;
    struct part *parts = NULL;
    struct merged m = {0};
    struct kpi_strmap ids;
    struct kpi_report rep;
    struct kpi_report_params params;
    char out[KPI_PATH_MAX];
    int rc = 0;

    kpi_strmap_init(&ids);
    memset(overall, 0, sizeof *overall);
    memset(grades, 0, sizeof *grades);
    kpi_arena_init(&arena);
    if ((rc = kpi_outdir_normalize(out_arg, out, err)))
        return rc;
    if (!n_dirs)
        return kpi_error_set(err, KPI_EUSAGE, "merge: no partial reports given");
    if (!(parts = calloc(n_dirs, sizeof *parts))) {
        rc = kpi_error_set(err, KPI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_dirs && !rc; i++) {
        parts[i].dir = dirs[i];
        rc = kpi_part_read(&parts[i], &arena, err);
    }
    if (rc || (rc = check_parts(parts, n_dirs, err)) || (rc = gather(parts, n_dirs, &m, err)) ||
        (rc = map_ids(&m, &ids, err)))
        goto out;

    *grades = parts[0].grades; /* the caller's: overall->grade points into it */
    kpi_rollup_rows(m.kpis, m.rows, m.n_kpis, m.deps, m.n_deps, grades, m.summaries, overall);
    params = parts[0].params;
    params.grades = grades;
    params.shard_index = params.shard_count = 0;
    params.threads = kpi_cpus_available();
    params.provenance = prov;
    if (prov && (rc = merge_provenance(parts, n_dirs, prov, err)))
        goto out;
    const char **warnings = NULL;
    size_t n_warnings = 0, warnings_total = 0;
    if ((rc = merge_warnings(parts, &m, &arena, &warnings, &n_warnings, &warnings_total, err)))
        goto out;
    rep = (struct kpi_report){
        .kpis = m.kpis,
        .rows = m.rows,
        .n_kpis = m.n_kpis,
        .departments = m.deps,
        .summaries = m.summaries,
        .n_departments = m.n_deps,
        .departments_total = parts[0].departments_total,
        .overall = overall,
        .extra_columns = parts[0].columns,
        .n_extra_columns = parts[0].n_columns,
        .warnings = warnings,
        .n_warnings = n_warnings,
        .warnings_total = warnings_total,
        .params = &params,
        .find = find_merged,
        .find_ctx = &ids,
    };
    if ((rc = kpi_outdir_lock(out, false, &lock, err)))
        goto out;
    kpi_outdir_remove_stale(out);
    rc = kpi_report_write(&rep, out, err);
out:
    kpi_outdir_unlock(&lock);
    for (size_t i = 0; parts && i < n_dirs; i++)
        kpi_part_release(&parts[i]);
    free(parts);
    free(m.kpis);
    free(m.rows);
    free(m.deps);
    free(m.summaries);
    kpi_strmap_release(&ids);
    kpi_arena_release(&arena);
    return rc;
}
