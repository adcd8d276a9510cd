#include "kpieval/error.h"

#include <stdarg.h>
#include <stdio.h>

int kpi_error_set(struct kpi_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *kpi_error_name(int code)
{
    switch (code) {
    case KPI_OK: return "ok";
    case KPI_ENOMEM: return "out of memory";
    case KPI_EIO: return "i/o error";
    case KPI_EINPUT: return "input error";
    case KPI_EUSAGE: return "usage error";
    case KPI_EPLUGIN: return "plugin error";
    case KPI_ELUA: return "lua error";
    case KPI_EBUSY: return "output folder busy";
    case KPI_ELIMIT: return "limit exceeded";
    }
    return "unknown error";
}
