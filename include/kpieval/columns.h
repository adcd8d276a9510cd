/*
 * columns.h - the one schema of the report rows: which columns a KPI row
 * and a department row have, in which order, of which type, and how each
 * cell is read from the report view.
 *
 * Provides the two column tables (kpi_columns_kpi, kpi_columns_department)
 * and the cell their getters fill.
 * Every writer (kpis.csv, departments.csv, departments/, report.json) loops
 * these tables, so a new column is one row here. Relies on report.h's view
 * of a run. Memory: a cell borrows from the report view, or holds its text
 * in its own scratch buffer.
 */
#ifndef KPIEVAL_COLUMNS_H
#define KPIEVAL_COLUMNS_H

#include <stddef.h>

#include "kpieval/report.h"

/* What a cell holds, and so how each format writes it. */
enum kpi_cell_type {
    KPI_CELL_ABSENT,  /* nothing: JSON leaves the key out (CSV has no such column) */
    KPI_CELL_NULL,    /* no value: CSV empty, JSON null */
    KPI_CELL_TEXT,    /* text from the inputs: CSV in its visible form, JSON a string */
    KPI_CELL_WORD,    /* a keyword of kpieval's own (status, direction, band): English,
                         translated by the writers of reports people read (words.h) */
    KPI_CELL_NUMBER,  /* CSV the report number format, JSON exact */
    KPI_CELL_MEASURE, /* a measured value: CSV a whole number, or two decimals
                         like a rate; JSON exact */
    KPI_CELL_RATE,    /* an achievement: CSV two decimals, JSON exact */
    KPI_CELL_COUNT,   /* a whole number */
    KPI_CELL_INPUTS,  /* a KPI's inputs: CSV "a=1; b=2", JSON {"a": 1, "b": 2} */
    KPI_CELL_LINES,   /* the input lines: JSON {"a": 14} */
    KPI_CELL_CELLS,   /* the unreadable cells as written: JSON {"target": "x"} */
    KPI_CELL_EXTRA,   /* the extra columns of indicators.csv: JSON {"owner": "kim"} */
    KPI_CELL_DEPENDS, /* the KPIs a composite KPI reads: JSON ["1-1.regular"] */
    KPI_CELL_FILLED   /* the inputs if_missing zero filled: JSON ["a", "b"] */
};

/* Which formats show a column. KPI_COL_SPREAD: a KPI_CELL_EXTRA column is
 * one CSV column per extra column of indicators.csv, under its own name. */
enum { KPI_COL_CSV = 1, KPI_COL_JSON = 2, KPI_COL_SPREAD = 4 };

#define KPI_CELL_SCRATCH 600

struct kpi_cell {
    enum kpi_cell_type type;
    const char *text;        /* TEXT and WORD */
    double number;           /* NUMBER and RATE */
    unsigned long long count; /* COUNT */
    /* A cell of indicators.csv that could not be read: CSV shows it as
     * written instead of the value, JSON shows null. NULL otherwise. */
    const char *as_written;
    const struct kpi_indicator *kpi; /* INPUTS, LINES, CELLS, EXTRA, DEPENDS */
    size_t row;                      /* INPUTS: the KPI's row, for kpi_column_dependency() */
    char scratch[KPI_CELL_SCRATCH];  /* text made for the cell */
};

struct kpi_column {
    const char *name;  /* CSV header, JSON key */
    unsigned formats;  /* KPI_COL_* */
    /* Fills *cell for row i of the report (a KPI, or a department node);
     * arg is the row's own (e.g. which status a count column counts). */
    void (*get)(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *cell);
    int arg;
    /* KPI columns only: the cell of department node i's total row, which
     * closes its file under departments/; NULL: empty there. */
    void (*total)(const struct kpi_report *rep, size_t i, int arg, struct kpi_cell *cell);
};

/* A KPI_CELL_CELLS cell's parts: cell i (0 <= i < KPI_UNREADABLE_CELLS) of
 * k that could not be read, as written, and in *name its column
 * ("baseline", "target", "weight", "direction"); NULL when it was read. */
#define KPI_UNREADABLE_CELLS 4
const char *kpi_column_unreadable(const struct kpi_indicator *k, size_t i, const char **name);

/* A composite KPI's read of the KPI it depends on as the inputs cell
 * shows it after its inputs: dependency j (below kpi->n_deps) of KPI row
 * i of rep, "kpi_value('ID')=VALUE", VALUE the actual in the number
 * format of the inputs (what the formula read), or the dependency's status
 * in parentheses, in the report's language, when it has no value to read:
 * "kpi_value('ID')=(missing)".
 * Written into buf (cut to size); returns buf. */
#define KPI_DEPENDENCY_BUF 1024
const char *kpi_column_dependency(const struct kpi_report *rep, size_t i, unsigned j, char *buf,
                                  size_t size);

/* The header of a column in lang (words.h): its name, translated. */
const char *kpi_column_header(const struct kpi_report *rep, const struct kpi_column *col);

/* The columns of a KPI row (kpis.csv, departments/, report.json "kpis")
 * and of a department row (departments.csv, report.json "departments"),
 * in the order written. */
const struct kpi_column *kpi_columns_kpi(size_t *n);
const struct kpi_column *kpi_columns_department(size_t *n);

#endif
