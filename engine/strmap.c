#include "strmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

_Thread_local unsigned long long kpi_strmap_probes;

void kpi_strmap_init_keyed(struct kpi_strmap *m, const uint64_t key[2])
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
    m->key[0] = key[0];
    m->key[1] = key[1];
}

static uint64_t process_key[2];
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void draw_process_key(void)
{
    unsigned char *p = (unsigned char *)process_key;
    size_t got = 0;
    while (got < sizeof process_key) {
        ssize_t n = getrandom(p + got, sizeof process_key - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (n < 0 && errno != EINTR)
            break;
    }
    if (got < sizeof process_key) {
        /* No getrandom (seccomp, old kernel): weaker, but still differs per
         * run and per process, which is all an outsider must not know. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        process_key[0] ^= mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30));
        process_key[1] ^= mix64((uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts);
    }
}

void kpi_strmap_init(struct kpi_strmap *m)
{
    pthread_once(&process_key_once, draw_process_key);
    kpi_strmap_init_keyed(m, process_key);
}

void kpi_strmap_release(struct kpi_strmap *m)
{
    uint64_t key[2] = {m->key[0], m->key[1]};
    free(m->slots);
    kpi_strmap_init_keyed(m, key);
}

/* SipHash-1-3 (Aumasson and Bernstein; one compression round, three
 * finalization rounds, as Rust's HashMap and Python's str hash use): a
 * keyed hash, so that without the key no one can choose strings that
 * collide. Folded to 32 bits; the slot is its low bits. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND()                                                                       \
    do {                                                                                 \
        v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32);                        \
        v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                                           \
        v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                                           \
        v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32);                        \
    } while (0)

static uint64_t siphash13(const uint64_t key[2], const unsigned char *p, size_t len)
{
    uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL, v1 = key[1] ^ 0x646f72616e646f6dULL;
    uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL, v3 = key[1] ^ 0x7465646279746573ULL;
    uint64_t m, b = (uint64_t)len << 56;
    size_t i;

    for (; len >= 8; p += 8, len -= 8) {
        m = 0;
        for (i = 0; i < 8; i++) /* little-endian whatever the machine */
            m |= (uint64_t)p[i] << (8 * i);
        v3 ^= m;
        SIPROUND();
        v0 ^= m;
    }
    for (i = 0; i < len; i++)
        b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    SIPROUND();
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND();
    SIPROUND();
    SIPROUND();
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t hash_string(const struct kpi_strmap *m, const char *s)
{
    uint64_t h = siphash13(m->key, (const unsigned char *)s, strlen(s));
    return (uint32_t)(h ^ (h >> 32));
}

static struct kpi_strmap_slot *find_slot(struct kpi_strmap_slot *slots, size_t cap,
                                         const char *key, uint32_t hash)
{
    size_t i = hash & (cap - 1);
    for (;;) {
        struct kpi_strmap_slot *s = &slots[i];
        kpi_strmap_probes++;
        if (!s->key || (s->hash == hash && !strcmp(s->key, key)))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

bool kpi_strmap_get(const struct kpi_strmap *m, const char *key, unsigned *value)
{
    if (!m->cap)
        return false;
    struct kpi_strmap_slot *s = find_slot(m->slots, m->cap, key, hash_string(m, key));
    if (!s->key)
        return false;
    *value = s->value;
    return true;
}

const char *kpi_strmap_find(const struct kpi_strmap *m, const char *key, unsigned *value)
{
    if (!m->cap)
        return NULL;
    struct kpi_strmap_slot *s = find_slot(m->slots, m->cap, key, hash_string(m, key));
    if (s->key && value)
        *value = s->value;
    return s->key;
}

bool kpi_strmap_set(struct kpi_strmap *m, const char *key, unsigned value)
{
    if (!m->cap)
        return false;
    struct kpi_strmap_slot *s = find_slot(m->slots, m->cap, key, hash_string(m, key));
    if (!s->key)
        return false;
    s->value = value;
    return true;
}

static int grow(struct kpi_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct kpi_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            *find_slot(slots, cap, m->slots[i].key, m->slots[i].hash) = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int kpi_strmap_put(struct kpi_strmap *m, const char *key, unsigned value, unsigned *existing,
                   const char **key_out)
{
    uint32_t hash = hash_string(m, key);
    struct kpi_strmap_slot *s;

    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return -1;
    s = find_slot(m->slots, m->cap, key, hash);
    if (s->key) {
        if (existing)
            *existing = s->value;
        if (key_out)
            *key_out = s->key;
        return 0;
    }
    s->key = key;
    s->hash = hash;
    s->value = value;
    m->count++;
    return 1;
}
