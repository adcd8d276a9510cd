/*
 * generate.h - a deterministic synthetic plan, the data the benchmarks and
 * scale tests run on (`kpieval generate N DIR [--seed S]`).
 *
 * Provides kpi_generate(). Relies on the C library only. The same N and
 * seed give byte-identical files on every machine.
 */
#ifndef KPIEVAL_GENERATE_H
#define KPIEVAL_GENERATE_H

#include <stdint.h>

#include "kpieval/error.h"

#define KPI_GENERATE_DEFAULT_SEED 2019

/* Writes DIR/indicators.csv and DIR/actuals.csv for n KPIs (DIR is created
 * when missing; the files are replaced whole). Returns 0 or a KPI_E*. */
int kpi_generate(unsigned long n, uint64_t seed, const char *dir, struct kpi_error *err);

#endif
