/*
 * fuzz_names.c - the formula name reader (engine/lua_names.c) and the
 * kpi_value reference scanner over it (engine/references.c), on arbitrary
 * text: the hand-written lexer `kpieval check`, the builder and a failing
 * formula's message all read hostile formulas with.
 *
 * Input: the bytes before the first NUL, as a formula text. Every use
 * reported must lie inside the text and spell its name there, start with a
 * letter or '_', be no Lua keyword and not follow '.' or ':' directly;
 * a literal argument must lie inside the text after the name; reading the
 * text twice gives the same uses; a reference's id is inside the text.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lua_names.h"
#include "references.h"
#include "text.h"

struct seen {
    const char *text;
    size_t len, count;
    unsigned long long sum; /* of offsets and flags, to compare two reads */
};

static void on_use(void *ctx, const struct kpi_lua_name *use)
{
    struct seen *s = ctx;
    FUZZ_CHECK(use->len > 0 && use->offset + use->len <= s->len);
    FUZZ_CHECK(strlen(use->name) == use->len);
    FUZZ_CHECK(!memcmp(s->text + use->offset, use->name, use->len));
    FUZZ_CHECK(kpi_text_is_lua_name(use->name));
    FUZZ_CHECK(use->offset == 0 || (s->text[use->offset - 1] != '.' &&
                                    s->text[use->offset - 1] != ':') ||
               (use->offset >= 2 && s->text[use->offset - 2] == '.' &&
                s->text[use->offset - 1] == '.'));
    if (use->literal_arg) {
        FUZZ_CHECK(use->call);
        FUZZ_CHECK(use->arg_offset >= use->offset + use->len);
        FUZZ_CHECK(use->arg_offset + use->arg_len <= s->len);
    }
    s->count++;
    s->sum += use->offset * 7 + use->len * 3 + use->call + 2u * use->literal_arg;
}

static int on_ref(void *ctx, const char *id, size_t len)
{
    struct seen *s = ctx;
    FUZZ_CHECK(id >= s->text && id + len <= s->text + s->len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = strnlen((const char *)data, size);
    char *text = malloc(len + 1);
    struct seen a = {0}, b = {0};
    struct kpi_refs_scan found;

    FUZZ_CHECK(text);
    memcpy(text, data, len);
    text[len] = '\0';
    a.text = b.text = text;
    a.len = b.len = len;
    FUZZ_CHECK(kpi_lua_names(text, on_use, &a) == 0);
    FUZZ_CHECK(kpi_lua_names(text, on_use, &b) == 0);
    FUZZ_CHECK(a.count == b.count && a.sum == b.sum);
    FUZZ_CHECK(kpi_refs_scan(text, &found, on_ref, &a) == 0);
    FUZZ_CHECK(found.not_literal <= found.uses);
    free(text);
    return 0;
}
