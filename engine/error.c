#include "kpieval/error.h"

#include <stdarg.h>
#include <stdio.h>

static void fill(struct kpi_error *err, int code, const char *file, unsigned line, unsigned column,
                 const char *fmt, va_list ap)
{
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    err->code = code;
    if (file != err->file)
        snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = column;
    err->kpi[0] = '\0';
    err->setting = NULL;
}

int kpi_error_set(struct kpi_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        fill(err, code, NULL, 0, 0, fmt, ap);
        va_end(ap);
    }
    return code;
}

int kpi_error_at(struct kpi_error *err, int code, const char *file, unsigned line, unsigned column,
                 const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        fill(err, code, file, line, column, fmt, ap);
        va_end(ap);
    }
    return code;
}

int kpi_error_kpi(struct kpi_error *err, int code, const char *kpi_id)
{
    if (err && code < 0)
        snprintf(err->kpi, sizeof err->kpi, "%s", kpi_id ? kpi_id : "");
    return code;
}

int kpi_error_setting(struct kpi_error *err, int code, const char *setting)
{
    if (err && code < 0)
        err->setting = setting;
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
