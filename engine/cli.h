/*
 * cli.h - the `kpieval` command: what each subcommand does, what is printed
 * and the exit status.
 *
 * Provides kpi_cli_main(). Relies on options.h (the subcommands and options
 * tables that read argv) and the pipeline (run.h). Only this module and
 * main.c print or choose exit codes; the library never does.
 */
#ifndef KPIEVAL_CLI_H
#define KPIEVAL_CLI_H

#include <stdio.h>

/* Exit statuses (docs/kpieval.1). */
enum {
    KPI_EXIT_OK = 0,     /* every KPI ok */
    KPI_EXIT_KPIS = 1,   /* some KPIs not ok; reports written */
    KPI_EXIT_INPUT = 2   /* usage or input error; nothing written */
};

/* Runs the command line; returns the exit status. */
int kpi_cli_main(int argc, char **argv, FILE *out, FILE *errs);

#endif
