#include "kpieval/provenance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

void kpi_provenance_init(struct kpi_provenance *p)
{
    memset(p, 0, sizeof *p);
}

void kpi_provenance_release(struct kpi_provenance *p)
{
    free(p->version);
    free(p->command);
    for (int k = 0; k < KPI_PROVENANCE_KINDS; k++) {
        for (size_t i = 0; i < p->n_files[k]; i++)
            free(p->files[k][i].path);
        free(p->files[k]);
    }
    for (size_t i = 0; i < p->n_settings; i++) {
        free(p->settings[i].name);
        free(p->settings[i].value);
    }
    free(p->settings);
    kpi_provenance_init(p);
}

int kpi_provenance_set_version(struct kpi_provenance *p, const char *version,
                               struct kpi_error *err)
{
    char *copy = strdup(version);
    if (!copy)
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    free(p->version);
    p->version = copy;
    return 0;
}

/* Bytes a POSIX shell takes as they are, outside quotes. */
static bool shell_plain(const char *s)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_@%+=:,./-";
    return *s && strspn(s, plain) == strlen(s);
}

int kpi_provenance_set_command(struct kpi_provenance *p, int argc, const char *const *argv,
                               struct kpi_error *err)
{
    size_t len = 1;
    char *cmd, *o;

    /* At worst every byte is a quote, 'it'\''s': four bytes for one. */
    for (int i = 0; i < argc; i++)
        len += 4 * strlen(argv[i]) + 3;
    if (!(o = cmd = malloc(len)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i)
            *o++ = ' ';
        if (shell_plain(a)) {
            memcpy(o, a, strlen(a));
            o += strlen(a);
            continue;
        }
        *o++ = '\'';
        for (; *a; a++) {
            if (*a == '\'') {
                memcpy(o, "'\\''", 4);
                o += 4;
            } else {
                *o++ = *a;
            }
        }
        *o++ = '\'';
    }
    *o = '\0';
    free(p->command);
    p->command = cmd;
    return 0;
}

#define EPOCH_MAX 253402300799LL /* 9999-12-31T23:59:59Z: four-digit years */

int kpi_provenance_now(char out[KPI_TIME_BUF], struct kpi_error *err)
{
    const char *fixed = getenv(KPI_SOURCE_DATE_EPOCH);
    long long secs = 0;
    struct tm tm;
    time_t t;

    if (fixed) {
        size_t n = strspn(fixed, "0123456789");
        if (!n || fixed[n] || n > 12 || (secs = strtoll(fixed, NULL, 10)) > EPOCH_MAX)
            return kpi_error_set(err, KPI_EUSAGE,
                                 "%s '%s': expected a whole number of seconds since "
                                 "1970-01-01T00:00:00Z, at most %lld",
                                 KPI_SOURCE_DATE_EPOCH, fixed, EPOCH_MAX);
        t = (time_t)secs;
    } else {
        t = time(NULL);
    }
    if (!gmtime_r(&t, &tm) || !strftime(out, KPI_TIME_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return kpi_error_set(err, KPI_EUSAGE, "the time is out of range");
    return 0;
}

int kpi_provenance_time_ok(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    int y, mo, d, h, mi, sec;
    if (strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &sec) != 6)
        return 0;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo >= 1 && mo <= 12 && d >= 1 && d <= days[mo - 1] && (mo != 2 || d <= 28 || leap) &&
           h <= 23 && mi <= 59 && sec <= 59;
}

int kpi_provenance_add_file(struct kpi_provenance *p, enum kpi_provenance_kind kind,
                            const char *path, const char *sha256, uint64_t rows,
                            struct kpi_error *err)
{
    struct kpi_provenance_file *files;
    char *copy;

    if ((unsigned)kind >= KPI_PROVENANCE_KINDS || strlen(sha256) != KPI_SHA256_HEX - 1)
        return kpi_error_set(err, KPI_EUSAGE, "not a file's provenance");
    files = realloc(p->files[kind], (p->n_files[kind] + 1) * sizeof *files);
    if (files)
        p->files[kind] = files;
    if (!files || !(copy = strdup(path)))
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    files += p->n_files[kind]++;
    files->path = copy;
    memcpy(files->sha256, sha256, KPI_SHA256_HEX);
    files->rows = rows;
    return 0;
}

int kpi_provenance_set(struct kpi_provenance *p, const char *name, const char *value,
                       struct kpi_error *err)
{
    char *v = strdup(value), *n = NULL;
    size_t i = 0;

    while (i < p->n_settings && strcmp(p->settings[i].name, name))
        i++;
    if (v && i < p->n_settings) {
        free(p->settings[i].value);
        p->settings[i].value = v;
        return 0;
    }
    struct kpi_provenance_setting *s =
        v ? realloc(p->settings, (p->n_settings + 1) * sizeof *s) : NULL;
    if (s)
        p->settings = s;
    if (!s || !(n = strdup(name))) {
        free(v);
        return kpi_error_set(err, KPI_ENOMEM, "out of memory");
    }
    p->settings[p->n_settings++] = (struct kpi_provenance_setting){n, v};
    return 0;
}

const char *kpi_provenance_get(const struct kpi_provenance *p, const char *name)
{
    for (size_t i = 0; i < p->n_settings; i++)
        if (!strcmp(p->settings[i].name, name))
            return p->settings[i].value;
    return NULL;
}

int kpi_provenance_same_inputs(const struct kpi_provenance *a, const struct kpi_provenance *b)
{
    for (int k = 0; k < KPI_PROVENANCE_KINDS; k++) {
        if (a->n_files[k] != b->n_files[k])
            return 0;
        for (size_t i = 0; i < a->n_files[k]; i++) {
            const struct kpi_provenance_file *x = &a->files[k][i], *y = &b->files[k][i];
            if (strcmp(x->path, y->path) || strcmp(x->sha256, y->sha256) || x->rows != y->rows)
                return 0;
        }
    }
    if (a->n_settings != b->n_settings)
        return 0;
    for (size_t i = 0; i < a->n_settings; i++)
        if (strcmp(a->settings[i].name, b->settings[i].name) ||
            strcmp(a->settings[i].value, b->settings[i].value))
            return 0;
    return 1;
}

/* ---- SHA-256 ------------------------------------------------------------- */

struct kpi_sha256 {
    struct sha256_ctx ctx;
};

kpi_sha256 *kpi_sha256_new(void)
{
    kpi_sha256 *h = malloc(sizeof *h);
    if (h)
        sha256_init(&h->ctx);
    return h;
}

void kpi_sha256_update(kpi_sha256 *h, const void *bytes, size_t n)
{
    sha256_update(&h->ctx, n, bytes);
}

void kpi_sha256_final(kpi_sha256 *h, char hex[KPI_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&h->ctx, sizeof d, d); /* also starts h again */
    for (size_t i = 0; i < sizeof d; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * sizeof d] = '\0';
}

void kpi_sha256_free(kpi_sha256 *h)
{
    free(h);
}

static uint64_t count_newlines(const char *p, size_t n)
{
    uint64_t lines = 0;
    for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        lines++;
    return lines;
}

void kpi_sha256_lines(const void *bytes, size_t n, char hex[KPI_SHA256_HEX], uint64_t *lines)
{
    struct kpi_sha256 h;
    sha256_init(&h.ctx);
    kpi_sha256_update(&h, bytes, n);
    kpi_sha256_final(&h, hex);
    *lines = count_newlines(bytes, n) + (n && ((const char *)bytes)[n - 1] != '\n');
}

int kpi_sha256_file(const char *path, char hex[KPI_SHA256_HEX], uint64_t *lines,
                    struct kpi_error *err)
{
    enum { CHUNK = 1 << 16 };
    struct kpi_sha256 h;
    char *buf = malloc(CHUNK), last = '\n';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    ssize_t got;

    *lines = 0;
    if (fd < 0 || !buf) {
        rc = !buf ? kpi_error_set(err, KPI_ENOMEM, "out of memory")
                  : kpi_error_at(err, KPI_EIO, path, 0, 0, "%s: cannot open: %s", path,
                                 strerror(errno));
        goto out;
    }
    sha256_init(&h.ctx);
    while ((got = read(fd, buf, CHUNK)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = kpi_error_at(err, KPI_EIO, path, 0, 0, "%s: read error: %s", path,
                              strerror(errno));
            goto out;
        }
        kpi_sha256_update(&h, buf, (size_t)got);
        *lines += count_newlines(buf, (size_t)got);
        last = buf[got - 1];
    }
    *lines += last != '\n';
    kpi_sha256_final(&h, hex);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}
