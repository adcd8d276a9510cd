/*
 * fuzz.h - what the fuzz targets share: the libFuzzer entry point, a check
 * macro that aborts (so libFuzzer and the replay driver both see a crash),
 * an independent UTF-8 validator, a per-process scratch folder, and an
 * invariant walk over a loaded dataset.
 *
 * Each target is one fuzz_<name>.c defining LLVMFuzzerTestOneInput; it is
 * linked either with libFuzzer (clang -fsanitize=fuzzer, run_fuzz.sh) or
 * with replay.c (any compiler, ctest). Targets keep no state between
 * inputs except the scratch folder, and free everything they allocate.
 */
#ifndef KPIEVAL_FUZZ_H
#define KPIEVAL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kpieval/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A KPI message in the reports is at most this many bytes, NUL included
 * (docs/security.md, "Limits"). */
#define FUZZ_MESSAGE_MAX 512

/* An invariant the engine must keep: print where, then abort. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond);                                                  \
    } while (0)

void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* True when s[0..len) is valid UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). Written apart from engine/text.c so
 * each checks the other. */
bool fuzz_utf8_valid(const char *s, size_t len);

/* Offset of the first byte that does not start a valid sequence, or len. */
size_t fuzz_utf8_invalid_at(const char *s, size_t len);

/* A folder private to this process, created on first use and removed with
 * everything in it at exit. */
const char *fuzz_scratch_dir(void);

/* Writes data[0..len) to DIR/name (replacing it); aborts on an I/O error. */
void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len);

/* Removes DIR/name if it exists. */
void fuzz_remove_file(const char *dir, const char *name);

/* Reads a whole file into a NUL-terminated malloc'd buffer; aborts when it
 * cannot. */
char *fuzz_read_file(const char *path, size_t *len);

/* Checks everything reachable from a loaded dataset against the rules of
 * docs/formats.md: ids, departments and the tree, expressions, inputs,
 * numbers, and that every string is valid UTF-8. */
void fuzz_check_dataset(const kpi_dataset *ds);

#endif
