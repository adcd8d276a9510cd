/*
 * formula.h - compiles each distinct formula text once, loads the plugin
 * formulas, and evaluates one KPI at a time in a fresh environment.
 *
 * Provides kpi_formulas (opaque; _new/_free) over one kpi_sandbox: name
 * resolution (inputs, kpi, kpi_value, plugins, library), the `missing`
 * rule, a composite KPI's reads of the rows of earlier levels, and the
 * conversion of Lua errors into messages that name the KPI. Relies on the
 * sandbox and the dataset model. Memory: messages are written into the
 * caller's buffer.
 */
#ifndef KPIEVAL_FORMULA_H
#define KPIEVAL_FORMULA_H

#include <stdbool.h>
#include <stddef.h>

#include "kpieval/dataset.h"
#include "kpieval/result.h"
#include "kpieval/rules.h"
#include "sandbox.h"

typedef struct kpi_formulas kpi_formulas;

/* Plugin folders in shadowing order (a later one wins); folders that do
 * not exist are skipped. A plugin file that is refused (docs/security.md:
 * a link, not a regular file, over the size limit, binary) or does not
 * compile is kept as broken (kpi_formulas_plugin_broken()): a formula that
 * calls it fails with its message, every other KPI is evaluated. Fails
 * with KPI_EPLUGIN only when a folder cannot be read, or KPI_ENOMEM.
 * Running the plugins is a separate check, kpi_formulas_check_plugins(). */
int kpi_formulas_new(const kpi_dataset *ds, const struct kpi_sandbox_limits *limits,
                     const char *const *dirs, size_t n_dirs, kpi_formulas **out,
                     struct kpi_error *err);
void kpi_formulas_free(kpi_formulas *fe);

/* The plugins of folder dir: the names of its *.lua files without the
 * extension, in byte order (the order they are read in, on every machine),
 * in *names (n of them; free with kpi_formulas_free_names()). A folder
 * that does not exist has none. Returns 0, KPI_EPLUGIN when it cannot be
 * read, or KPI_ENOMEM. */
int kpi_formulas_list_dir(const char *dir, char ***names, size_t *n, struct kpi_error *err);
void kpi_formulas_free_names(char **names, size_t n);

/* Runs plugin file i's top level once, under the limits, and checks that
 * it returns a function. Returns 0; KPI_EPLUGIN with err naming the file
 * (and line when known) when it is broken, also when it was broken
 * before (it is not marked here: see kpi_formulas_mark_broken()); or
 * KPI_ENOMEM. A C call that never returns cannot be stopped here: workers
 * call this in a supervised child (kpi_workers_check_plugins). */
int kpi_formulas_check_plugin(kpi_formulas *fe, size_t i, struct kpi_error *err);

/* kpi_formulas_check_plugin() for every plugin, in this process, marking
 * each broken one. Returns 0, or KPI_ENOMEM. */
int kpi_formulas_check_plugins(kpi_formulas *fe, struct kpi_error *err);

/* Number of plugin files read (shadowed ones and broken ones included). */
size_t kpi_formulas_plugin_count(const kpi_formulas *fe);

/* Plugin i's failure, "PATH[:LINE]: message", or NULL when it loads. */
const char *kpi_formulas_plugin_broken(const kpi_formulas *fe, size_t i);

/* Records plugin i as broken with message (its file is put first when the
 * message lacks it), so that the formulas calling it fail with it, here
 * and in workers forked after. Returns 0 or KPI_ENOMEM. */
int kpi_formulas_mark_broken(kpi_formulas *fe, size_t i, unsigned line, const char *message,
                             struct kpi_error *err);

/* Plugin file i, in the order read (shadowing order): its path as read,
 * and in *bytes, *len the file's bytes exactly as read (NULL and 0 for a
 * file refused unread). NULL past the last one. For provenance: the bytes
 * that run are the bytes recorded. */
const char *kpi_formulas_plugin_file(const kpi_formulas *fe, size_t i, const char **bytes,
                                     size_t *len);

/* Compiles the checks of rules (not copied: they must outlive fe), here
 * and in every rebuilt state; kpi_formulas_eval_kpi() then runs the rules
 * that apply to a KPI before its formula. Returns 0, KPI_EINPUT naming
 * rules.csv and the line of a check that does not compile, or KPI_ENOMEM. */
int kpi_formulas_set_rules(kpi_formulas *fe, const kpi_rules *rules, struct kpi_error *err);

/* The warnings of failed `warning` rules of the KPI that
 * kpi_formulas_eval_kpi() evaluated last, one per line, or NULL. Valid
 * until the next evaluation. */
const char *kpi_formulas_note(const kpi_formulas *fe);

/* The memory limit of one evaluation, in bytes. */
size_t kpi_formulas_memory_limit(const kpi_formulas *fe);

/* True when an evaluation hit a limit since the state was (re)built. */
bool kpi_formulas_tripped(const kpi_formulas *fe);

/* Replaces the Lua state with a new one built from the plugin sources
 * kept in memory (after a limit trip, the old state is not trusted). */
int kpi_formulas_rebuild(kpi_formulas *fe, struct kpi_error *err);

#define KPI_MESSAGE_MAX 512

/* For `kpieval check`, which resolves names without running anything. */

/* Compiles expression `id` (kpi_dataset_expressions()) as a run would:
 * true when it compiles; else false and Lua's message ("formula:LINE:
 * ...") in msg. */
bool kpi_formulas_compiles(kpi_formulas *fe, unsigned id, char msg[KPI_MESSAGE_MAX]);

/* What a formula's name resolves to, apart from the KPI's inputs. */
enum kpi_name_kind { KPI_NAME_UNKNOWN, KPI_NAME_KPI /* kpi and kpi_value */, KPI_NAME_PLUGIN,
                     KPI_NAME_BROKEN /* a plugin that failed to load */, KPI_NAME_LIBRARY,
                     KPI_NAME_FORBIDDEN };
enum kpi_name_kind kpi_formulas_name_kind(kpi_formulas *fe, const char *name);

/* Offers every plugin and library name to s (struct kpi_suggest). */
struct kpi_suggest;
void kpi_formulas_offer_names(kpi_formulas *fe, struct kpi_suggest *s);

/* The plugin names, "a, b, c" in byte order, into out (cut to size). */
void kpi_formulas_plugin_list(const kpi_formulas *fe, char *out, size_t size);
/* The result rows of every KPI of the dataset (kpi_dataset_indicators()
 * order), read-only, for kpi_value(): a composite KPI reads the actuals of
 * KPIs of earlier levels of the plan there, and is `error` without running
 * when one of them is not ok. Borrowed; NULL: no KPI's value is there. */
void kpi_formulas_set_rows(kpi_formulas *fe, const struct kpi_result *rows);

/* Runs k's formula. Returns the status; sets *actual when ok; otherwise
 * writes the reason into msg. A formula that does not compile gives
 * KPI_STATUS_INVALID. */
enum kpi_status kpi_formulas_eval(kpi_formulas *fe, const struct kpi_indicator *k, double *actual,
                                  char msg[KPI_MESSAGE_MAX]);

/* Runs k's scoring expression with actual, target and baseline set.
 * Returns KPI_STATUS_OK and *value, or the failure and msg. */
enum kpi_status kpi_formulas_eval_scoring(kpi_formulas *fe, const struct kpi_indicator *k,
                                          double actual, double *value,
                                          char msg[KPI_MESSAGE_MAX]);

/* Evaluates KPI k completely (formula, then its scoring expression) into
 * *r. Returns true when r needs the message written into msg (valid UTF-8);
 * false for ok, and for invalid KPIs whose message the dataset holds. */
bool kpi_formulas_eval_kpi(kpi_formulas *fe, const struct kpi_indicator *k, struct kpi_result *r,
                           char msg[KPI_MESSAGE_MAX]);

#endif
