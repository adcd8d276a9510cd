/*
 * encoding.h - the text encodings a dataset's CSV files may be in.
 *
 * Provides enum kpi_encoding and kpi_encoding_parse(), which reads its name
 * as people write it. Relies on error.h. The files are converted to UTF-8
 * as they are read (engine/csv_reader.c, with iconv(3)); everything after
 * the reader sees UTF-8 only.
 */
#ifndef KPIEVAL_ENCODING_H
#define KPIEVAL_ENCODING_H

#include "kpieval/error.h"

enum kpi_encoding {
    KPI_ENCODING_UTF8 = 0, /* the default; a BOM is skipped */
    KPI_ENCODING_CP949     /* CP949 (Windows' Korean, a superset of EUC-KR) */
};

/* Reads name, case-insensitively: "utf-8" (or "utf8"), "cp949" or
 * "euc-kr" (or "euckr"; read as CP949, of which EUC-KR is a subset, as
 * Korean Excel exports labelled EUC-KR often hold CP949 characters).
 * Returns 0 and *out, or KPI_EUSAGE with err's setting KPI_SETTING_ENCODING. */
int kpi_encoding_parse(const char *name, enum kpi_encoding *out, struct kpi_error *err);

#endif
