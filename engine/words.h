/*
 * words.h - the words the reports are written in, in each language.
 *
 * Provides kpi_word(): kpieval's own words (column headers, statuses,
 * bands, directions, the labels of the HTML and Excel reports) from their
 * English form, which is also the key; and the --lang names. One table,
 * so a new word or a new language is rows, not code. Relies on report.h's
 * enum kpi_lang. Text from the inputs is never translated.
 */
#ifndef KPIEVAL_WORDS_H
#define KPIEVAL_WORDS_H

#include <stddef.h>

#include "kpieval/error.h"
#include "kpieval/report.h"

/* english in lang; english itself when the table has no such word (so a
 * missing translation shows, in English, rather than nothing). */
const char *kpi_word(enum kpi_lang lang, const char *english);

/* The English form of word i of the table, in table order; NULL past the
 * last (for tests: the table must be sorted for kpi_word's search). */
const char *kpi_words_english(size_t i);

/* "en" or "ko" into *lang; else KPI_EUSAGE with err->setting
 * KPI_SETTING_LANG. */
int kpi_lang_parse(const char *name, enum kpi_lang *lang, struct kpi_error *err);
const char *kpi_lang_name(enum kpi_lang lang);

#endif
