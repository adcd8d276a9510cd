/* CSV writers: kpis.csv, departments.csv and departments/NNN-name.csv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text.h"
#include "writers.h"

/* RFC 4180: quote a field holding ',', '"', CR or LF; double the quotes. */
static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}

static void put_number(FILE *f, double x)
{
    char buf[KPI_NUMBER_BUF];
    fputs(kpi_text_format_number(x, buf), f);
}

static void put_rate(FILE *f, double x)
{
    char buf[KPI_RATE_BUF];
    fputs(kpi_text_format_rate(x, buf), f);
}

static const char kpis_header[] = "id,name,department,unit,direction,baseline,target,formula,"
                                  "inputs,actual,achievement,achievement_capped,weight,status,"
                                  "message\n";

static void put_inputs(FILE *f, const struct kpi_indicator *k)
{
    char buf[KPI_NUMBER_BUF];

    /* Names are identifiers and values numbers: nothing to quote. */
    for (unsigned i = 0; i < k->n_inputs; i++) {
        if (i)
            fputs("; ", f);
        fputs(k->inputs[i].name, f);
        putc('=', f);
        fputs(kpi_text_format_number(k->inputs[i].value, buf), f);
    }
}

static void put_kpi_row(FILE *f, const struct kpi_indicator *k, const struct kpi_result *r)
{
    put_field(f, k->id);
    putc(',', f);
    put_field(f, k->name);
    putc(',', f);
    put_field(f, k->department);
    putc(',', f);
    put_field(f, k->unit);
    putc(',', f);
    /* A cell that could not be read is shown as written. */
    if (k->bad->direction)
        put_field(f, k->bad->direction);
    else
        fputs(k->direction == KPI_DIRECTION_DECREASE ? "decrease" : "increase", f);
    putc(',', f);
    if (k->bad->baseline)
        put_field(f, k->bad->baseline);
    else if (k->has_baseline)
        put_number(f, k->baseline);
    putc(',', f);
    if (k->bad->target)
        put_field(f, k->bad->target);
    else
        put_number(f, k->target);
    putc(',', f);
    put_field(f, k->formula);
    putc(',', f);
    put_inputs(f, k);
    putc(',', f);
    if (r->has_actual)
        put_number(f, r->actual);
    putc(',', f);
    if (r->status == KPI_STATUS_OK) {
        put_rate(f, r->achievement);
        putc(',', f);
        put_rate(f, r->achievement_capped);
    } else {
        putc(',', f);
    }
    putc(',', f);
    if (k->bad->weight)
        put_field(f, k->bad->weight);
    else
        put_number(f, k->weight);
    putc(',', f);
    fputs(kpi_status_name(r->status), f);
    putc(',', f);
    put_field(f, r->message ? r->message : "");
    putc('\n', f);
}

int kpi_write_kpis_csv(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(rep->ds, &n);
    FILE *f = kpi_output_open(dir, "kpis.csv", err);

    if (!f)
        return err ? err->code : KPI_EIO;
    fputs(kpis_header, f);
    if (rep->layout) {
        for (size_t b = 0; b < rep->layout->n_blocks; b++) {
            struct kpi_shard_block *bl = &rep->layout->blocks[b];
            bl->kpis_csv[0] = ftell(f);
            for (size_t i = bl->first_kpi; i < bl->end_kpi; i++)
                put_kpi_row(f, &ks[i], &rep->rows[i]);
            bl->kpis_csv[1] = ftell(f);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            put_kpi_row(f, &ks[i], &rep->rows[i]);
    }
    return kpi_output_close(f, "kpis.csv", err);
}

int kpi_write_departments_csv(const struct kpi_report *rep, const char *dir,
                              struct kpi_error *err)
{
    size_t n;
    const struct kpi_department *deps = kpi_dataset_departments(rep->ds, &n);
    FILE *f = kpi_output_open(dir, "departments.csv", err);

    if (!f)
        return err ? err->code : KPI_EIO;
    fputs("department,kpis,ok,missing,error,invalid,achievement,grade\n", f);
    for (size_t i = 0, b = 0; i < n; i++) {
        struct kpi_shard_block *bl =
            rep->layout && b < rep->layout->n_blocks ? &rep->layout->blocks[b] : NULL;
        if (bl && i == bl->first_dep)
            bl->departments_csv[0] = ftell(f);
        const struct kpi_department_summary *s = &rep->departments[i];
        put_field(f, deps[i].path);
        fprintf(f, ",%u,%u,%u,%u,%u,", s->kpis, s->count[KPI_STATUS_OK],
                s->count[KPI_STATUS_MISSING], s->count[KPI_STATUS_ERROR],
                s->count[KPI_STATUS_INVALID]);
        if (s->has_achievement)
            put_rate(f, s->achievement);
        putc(',', f);
        put_field(f, s->grade);
        putc('\n', f);
        if (bl && i + 1 == bl->end_dep) {
            bl->departments_csv[1] = ftell(f);
            b++;
        }
    }
    return kpi_output_close(f, "departments.csv", err);
}

int kpi_write_department_files(const struct kpi_report *rep, const char *dir,
                               struct kpi_error *err)
{
    size_t n_deps, n_kpis;
    const struct kpi_department *deps = kpi_dataset_departments(rep->ds, &n_deps);
    const struct kpi_indicator *ks = kpi_dataset_indicators(rep->ds, &n_kpis);
    char sub[4096], name[512];
    size_t first = 0; /* the first KPI of department d's subtree */
    int rc = 0;

    snprintf(sub, sizeof sub, "%s/departments", dir);
    if (mkdir(sub, 0777) != 0)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create: %s", sub, strerror(errno));
    for (size_t d = 0; d < n_deps && !rc; d++) {
        /* KPIs are in tree order, so a department's subtree is one run of
         * them, and the runs of successive departments start in order. */
        while (first < n_kpis && ks[first].department_id < d)
            first++;
        size_t end_dep = d + 1;
        while (end_dep < n_deps && deps[end_dep].depth > deps[d].depth)
            end_dep++;
        size_t end = first;
        while (end < n_kpis && ks[end].department_id < end_dep)
            end++;
        kpi_report_department_file(&deps[d], deps[d].number, name, sizeof name);
        FILE *f = kpi_output_open(sub, name, err);
        if (!f)
            return err ? err->code : KPI_EIO;
        fputs(kpis_header, f);
        for (size_t j = first; j < end; j++)
            put_kpi_row(f, &ks[j], &rep->rows[j]);
        rc = kpi_output_close(f, name, err);
    }
    return rc;
}
