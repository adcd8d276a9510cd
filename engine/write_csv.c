/* CSV writers: kpis.csv, departments.csv and departments/NNN-name.csv. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text.h"
#include "writers.h"

/* s[0..n) with its quotes doubled, inside a quoted field. */
static void put_doubling_quotes(FILE *f, const char *s, size_t n)
{
    for (const char *q; (q = memchr(s, '"', n)); n -= (size_t)(q + 1 - s), s = q + 1) {
        kpi_out_n(f, s, (size_t)(q - s + 1));
        kpi_out_c(f, '"'); /* the quote, doubled */
    }
    kpi_out_n(f, s, n);
}

/* A text cell, in its visible form (text.h): a control character or a byte
 * that is not UTF-8 is written \xHH, so every row is one line and a
 * spreadsheet or terminal shows what the cell holds. RFC 4180 quoting for
 * ',' and '"', quotes doubled; CR and LF no longer occur. */
static void put_field(FILE *f, const char *s)
{
    size_t len = strlen(s), n = kpi_text_visible_span(s, len);
    bool quote = strpbrk(s, ",\"") != NULL;

    if (n == len && !quote) {
        kpi_out_n(f, s, len);
        return;
    }
    if (quote)
        kpi_out_c(f, '"');
    for (;;) {
        char esc[KPI_VISIBLE_ESCAPE_BUF];
        if (quote)
            put_doubling_quotes(f, s, n);
        else
            kpi_out_n(f, s, n);
        s += n, len -= n;
        if (!len)
            break;
        n = kpi_text_visible_escape(s, len, esc);
        kpi_out_s(f, esc);
        s += n, len -= n;
        n = kpi_text_visible_span(s, len);
    }
    if (quote)
        kpi_out_c(f, '"');
}

static void put_number(FILE *f, double x)
{
    char buf[KPI_NUMBER_BUF];
    kpi_out_s(f, kpi_text_format_number(x, buf));
}

static void put_rate(FILE *f, double x)
{
    char buf[KPI_RATE_BUF];
    kpi_out_s(f, kpi_text_format_rate(x, buf));
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
            kpi_out_s(f, "; ");
        kpi_out_s(f, k->inputs[i].name);
        kpi_out_c(f, '=');
        kpi_out_s(f, kpi_text_format_number(k->inputs[i].value, buf));
    }
}

static void put_kpi_row(FILE *f, const struct kpi_indicator *k, const struct kpi_result *r)
{
    put_field(f, k->id);
    kpi_out_c(f, ',');
    put_field(f, k->name);
    kpi_out_c(f, ',');
    put_field(f, k->department);
    kpi_out_c(f, ',');
    put_field(f, k->unit);
    kpi_out_c(f, ',');
    /* A cell that could not be read is shown as written. */
    if (k->bad->direction)
        put_field(f, k->bad->direction);
    else
        kpi_out_s(f, k->direction == KPI_DIRECTION_DECREASE ? "decrease" : "increase");
    kpi_out_c(f, ',');
    if (k->bad->baseline)
        put_field(f, k->bad->baseline);
    else if (k->has_baseline)
        put_number(f, k->baseline);
    kpi_out_c(f, ',');
    if (k->bad->target)
        put_field(f, k->bad->target);
    else
        put_number(f, k->target);
    kpi_out_c(f, ',');
    put_field(f, k->formula);
    kpi_out_c(f, ',');
    put_inputs(f, k);
    kpi_out_c(f, ',');
    if (r->has_actual)
        put_number(f, r->actual);
    kpi_out_c(f, ',');
    if (r->status == KPI_STATUS_OK) {
        put_rate(f, r->achievement);
        kpi_out_c(f, ',');
        put_rate(f, r->achievement_capped);
    } else {
        kpi_out_c(f, ',');
    }
    kpi_out_c(f, ',');
    if (k->bad->weight)
        put_field(f, k->bad->weight);
    else
        put_number(f, k->weight);
    kpi_out_c(f, ',');
    kpi_out_s(f, kpi_status_name(r->status));
    kpi_out_c(f, ',');
    put_field(f, r->message ? r->message : "");
    kpi_out_c(f, '\n');
}

int kpi_write_kpis_csv(const struct kpi_report *rep, const char *dir, struct kpi_error *err)
{
    size_t n;
    const struct kpi_indicator *ks = kpi_dataset_indicators(rep->ds, &n);
    FILE *f = kpi_output_open(dir, "kpis.csv", err);

    if (!f)
        return err ? err->code : KPI_EIO;
    kpi_out_s(f, kpis_header);
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
    kpi_out_s(f, "department,kpis,ok,missing,error,invalid,achievement,grade\n");
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
        kpi_out_c(f, ',');
        put_field(f, s->grade);
        kpi_out_c(f, '\n');
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
        kpi_out_s(f, kpis_header);
        for (size_t j = first; j < end; j++)
            put_kpi_row(f, &ks[j], &rep->rows[j]);
        rc = kpi_output_close(f, name, err);
    }
    return rc;
}
