#include "kpieval/encoding.h"

#include <stddef.h>
#include <strings.h>

static const struct {
    const char *name;
    enum kpi_encoding encoding;
} names[] = {
    {"utf-8", KPI_ENCODING_UTF8}, {"utf8", KPI_ENCODING_UTF8},   {"cp949", KPI_ENCODING_CP949},
    {"euc-kr", KPI_ENCODING_CP949}, {"euckr", KPI_ENCODING_CP949},
};

int kpi_encoding_parse(const char *name, enum kpi_encoding *out, struct kpi_error *err)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].encoding;
            return 0;
        }
    }
    kpi_error_set(err, KPI_EUSAGE, "unknown encoding '%s' (known: utf-8, cp949, euc-kr)", name);
    return kpi_error_setting(err, KPI_EUSAGE, KPI_SETTING_ENCODING);
}
