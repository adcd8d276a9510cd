/* Helpers shared by the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

static void remove_scratch(void);

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    fflush(stderr);
    remove_scratch(); /* abort() skips atexit */
    abort();
}

size_t fuzz_utf8_invalid_at(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    /* Table 3-7 of the Unicode standard: well-formed byte sequences. */
    while (i < len) {
        unsigned char c = s[i], lo = 0x80, hi = 0xBF;
        size_t n;

        if (c <= 0x7F) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c == 0xE0)
            n = 2, lo = 0xA0;
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
            n = 2;
        else if (c == 0xED)
            n = 2, hi = 0x9F;
        else if (c == 0xF0)
            n = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            n = 3;
        else if (c == 0xF4)
            n = 3, hi = 0x8F;
        else
            return i;
        if (len - i - 1 < n)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        }
        i += n + 1;
    }
    return len;
}

bool fuzz_utf8_valid(const char *s, size_t len)
{
    return fuzz_utf8_invalid_at(s, len) == len;
}

/* ---- the scratch folder ------------------------------------------------ */

static char scratch[4096];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_scratch(void)
{
    if (scratch[0])
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch_dir(void)
{
    if (!scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        int n =
            snprintf(scratch, sizeof scratch, "%s/kpieval-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        FUZZ_CHECK(n > 0 && (size_t)n < sizeof scratch);
        if (!mkdtemp(scratch)) {
            fprintf(stderr, "fuzz: cannot create %s: %s\n", scratch, strerror(errno));
            abort();
        }
        atexit(remove_scratch);
    }
    return scratch;
}

void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4200];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
}

void fuzz_remove_file(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "fuzz: cannot remove %s: %s\n", path, strerror(errno));
        abort();
    }
}

char *fuzz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        fprintf(stderr, "fuzz: cannot open %s: %s\n", path, strerror(errno));
        abort();
    }
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap + 1);
            FUZZ_CHECK(buf != NULL);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    FUZZ_CHECK(!ferror(f));
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- dataset invariants ------------------------------------------------ */

/* Every string of a dataset ends up in the reports: valid UTF-8. */
#define check_string(s) check_string_at((s), #s, __LINE__)

static void check_string_at(const char *s, const char *what, int line)
{
    size_t n, bad;

    if (!s)
        fuzz_fail(__FILE__, line, what);
    n = strlen(s);
    bad = fuzz_utf8_invalid_at(s, n);
    if (bad < n) {
        fprintf(stderr, "%s is not valid UTF-8 at byte %zu of %zu: \"%.*s\"\n", what, bad, n,
                (int)(n < 200 ? n : 200), s);
        fuzz_fail(__FILE__, line, "valid UTF-8");
    }
}

/* A KPI message, as it will appear in the reports (docs/security.md,
 * "Limits": at most 512 bytes, valid UTF-8). */
#define check_message(s) check_message_at((s), #s, __LINE__)

static void check_message_at(const char *s, const char *what, int line)
{
    check_string_at(s, what, line);
    if (!*s || strlen(s) >= FUZZ_MESSAGE_MAX) {
        fprintf(stderr, "%s is %zu bytes long (limit %d): \"%.200s...\"\n", what, strlen(s),
                FUZZ_MESSAGE_MAX - 1, s);
        fuzz_fail(__FILE__, line, "a message of 1 to 511 bytes");
    }
}

void fuzz_check_dataset(const kpi_dataset *ds)
{
    size_t n_k, n_d, n_e, n_x, n_w, total_w;
    const struct kpi_indicator *ks = kpi_dataset_indicators(ds, &n_k);
    const struct kpi_department *deps = kpi_dataset_departments(ds, &n_d);
    const char *const *exprs = kpi_dataset_expressions(ds, &n_e);
    const char *const *extra = kpi_dataset_extra_columns(ds, &n_x);
    const char *const *warnings = kpi_dataset_warnings(ds, &n_w, &total_w);
    const char *period = kpi_dataset_period(ds);

    FUZZ_CHECK(n_k > 0);
    FUZZ_CHECK(n_d > 0);
    FUZZ_CHECK(kpi_dataset_dir(ds) != NULL);
    if (period)
        check_string(period);

    /* The department tree: a parent before its children, paths distinct. */
    for (size_t i = 0; i < n_d; i++) {
        const struct kpi_department *d = &deps[i];
        size_t len = strlen(d->path);
        check_string(d->path);
        FUZZ_CHECK(len > 0 && len <= KPI_DEPARTMENT_PATH_MAX);
        FUZZ_CHECK(d->name >= d->path && d->name < d->path + len);
        FUZZ_CHECK(d->name == d->path || d->name[-1] == '/');
        FUZZ_CHECK(strchr(d->name, '/') == NULL);
        FUZZ_CHECK(d->depth < KPI_DEPARTMENT_LEVELS_MAX);
        if (d->parent == KPI_NONE) {
            FUZZ_CHECK(d->depth == 0);
            FUZZ_CHECK(d->name == d->path);
        } else {
            const struct kpi_department *p = &deps[d->parent];
            size_t plen = strlen(p->path);
            FUZZ_CHECK(d->parent < i);
            FUZZ_CHECK(d->depth == p->depth + 1);
            FUZZ_CHECK(plen < len && !memcmp(p->path, d->path, plen) && d->path[plen] == '/');
            FUZZ_CHECK(d->name == d->path + plen + 1);
        }
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(deps[j].path, d->path) != 0);
    }

    for (size_t i = 0; i < n_e; i++) {
        check_string(exprs[i]);
        FUZZ_CHECK(exprs[i][0] != '\0');
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(exprs[j], exprs[i]) != 0);
    }
    for (size_t i = 0; i < n_x; i++)
        check_string(extra[i]);

    FUZZ_CHECK(n_w <= total_w && n_w <= KPI_WARNINGS_KEPT);
    for (size_t i = 0; i < n_w; i++)
        check_string(warnings[i]);

    for (size_t i = 0; i < n_k; i++) {
        const struct kpi_indicator *k = &ks[i];

        FUZZ_CHECK(kpi_text_is_kpi_id(k->id));
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(ks[j].id, k->id) != 0);
        check_string(k->name);
        FUZZ_CHECK(k->name[0] != '\0');
        check_string(k->department);
        FUZZ_CHECK(k->department_id < n_d);
        FUZZ_CHECK(!strcmp(deps[k->department_id].path, k->department));
        check_string(k->unit);
        check_string(k->formula);
        if (k->formula[0]) {
            FUZZ_CHECK(k->formula_id < n_e);
            FUZZ_CHECK(!strcmp(exprs[k->formula_id], k->formula));
        } else {
            FUZZ_CHECK(k->invalid != NULL);
        }
        if (k->scoring == KPI_SCORING_EXPRESSION) {
            check_string(k->scoring_text);
            FUZZ_CHECK(k->scoring_id < n_e);
            FUZZ_CHECK(!strcmp(exprs[k->scoring_id], k->scoring_text));
        } else {
            FUZZ_CHECK(k->scoring_id == KPI_NONE);
        }
        FUZZ_CHECK(k->direction == KPI_DIRECTION_INCREASE ||
                   k->direction == KPI_DIRECTION_DECREASE);
        FUZZ_CHECK(k->line >= 2);
        for (size_t x = 0; x < n_x; x++)
            check_string(k->extra[x]);
        if (k->bad->baseline)
            check_string(k->bad->baseline);
        if (k->bad->target)
            check_string(k->bad->target);
        if (k->bad->weight)
            check_string(k->bad->weight);
        if (k->bad->direction)
            check_string(k->bad->direction);
        if (k->invalid) {
            check_message(k->invalid);
        } else {
            FUZZ_CHECK(!k->bad->baseline && !k->bad->target && !k->bad->weight && !k->bad->direction);
            FUZZ_CHECK(isfinite(k->target));
            FUZZ_CHECK(isfinite(k->weight) && k->weight >= 0 && k->weight <= KPI_WEIGHT_MAX);
            FUZZ_CHECK(!k->has_baseline || isfinite(k->baseline));
            FUZZ_CHECK(k->scoring != KPI_SCORING_BASELINE || k->has_baseline);
        }
        FUZZ_CHECK(k->n_inputs == 0 || k->inputs != NULL);
        for (unsigned a = 0; a < k->n_inputs; a++) {
            const struct kpi_input *in = &k->inputs[a];
            FUZZ_CHECK(kpi_text_is_lua_name(in->name));
            FUZZ_CHECK(isfinite(in->value));
            FUZZ_CHECK(in->line >= 2);
            if (!k->invalid) {
                for (unsigned b = 0; b < a; b++)
                    FUZZ_CHECK(strcmp(k->inputs[b].name, in->name) != 0);
            }
        }
    }
}
