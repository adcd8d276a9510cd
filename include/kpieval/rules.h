/*
 * rules.h - a dataset's validation rules (rules.csv, docs/formats.md):
 * checks over a KPI's inputs such as `employed <= eligible`, whose failure
 * is a warning of the run or the KPI's `error`, like DHIS2's validation
 * rules.
 *
 * Provides kpi_rules (opaque; _load/_free), read-only views of its rules,
 * which rules apply to a KPI, and the words of a failure. The checks are
 * compiled and run by the formula engine, in the sandbox and under the
 * limits of formulas. Relies on the CSV reader and the dataset model.
 * Memory: every string of a rule lives in its kpi_rules.
 */
#ifndef KPIEVAL_RULES_H
#define KPIEVAL_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "kpieval/dataset.h"
#include "kpieval/encoding.h"
#include "kpieval/error.h"
#include "kpieval/provenance.h"

typedef struct kpi_rules kpi_rules;

/* Bytes of a KPI's rule warnings (kpi_result.note), with the NUL: the
 * size of a KPI's message. Warnings that do not fit are left out. */
#define KPI_RULE_NOTE_MAX 512

enum kpi_rule_severity { KPI_RULE_WARNING, KPI_RULE_ERROR };

struct kpi_rule {
    const char *id;         /* unique in the file */
    const char *kpi;        /* the KPI it is for; NULL: every KPI that has its names */
    const char *check;      /* a Lua expression that must be true */
    const char *message;    /* shown with a failure; NULL when none */
    unsigned line;          /* in rules.csv */
    unsigned char severity; /* enum kpi_rule_severity */
};

/* Reads DIR/rules.csv (through the CSV reader, in encoding; recorded in
 * prov, when not NULL, like the other input files). No file: *out holds
 * no rules. A rule for a KPI that ds does not have is a warning of ds
 * (kpi_dataset_add_warning) and is left out. Returns 0 and *out, or
 * KPI_EINPUT naming rules.csv and the line (a missing required column, an
 * empty or duplicate id, an empty check, an unknown severity), or another
 * negative KPI_E* of the reader. */
int kpi_rules_load(const char *dir, kpi_dataset *ds, enum kpi_encoding encoding,
                   struct kpi_provenance *prov, kpi_rules **out, struct kpi_error *err);
void kpi_rules_free(kpi_rules *rules);

/* The rules in file order (none for NULL). */
const struct kpi_rule *kpi_rules_list(const kpi_rules *rules, size_t *n);

/* Whether rule applies to KPI k: it names k, or names no KPI. Whether k
 * has the inputs the check uses is found when it runs: a rule using a
 * name k lacks is skipped. */
bool kpi_rule_applies(const struct kpi_rule *rule, const struct kpi_indicator *k);

/* The words of rule's failure for k into out (at most size bytes, cut
 * between characters): "rule R1 failed: CHECK (a=1, b=2)", with ": why"
 * when the check could not be run to a boolean and ": MESSAGE" when the
 * rule has one; the values are k's inputs that the check names, in the
 * order it names them. As a warning (as_warning), "rules.csv:LINE: rule
 * R1 failed for KPI: ..." instead. */
void kpi_rule_describe(const struct kpi_rule *rule, const struct kpi_indicator *k, const char *why,
                       bool as_warning, char *out, size_t size);

#endif
