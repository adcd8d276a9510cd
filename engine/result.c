#include "kpieval/result.h"

const char *kpi_status_name(enum kpi_status status)
{
    static const char *const names[KPI_STATUS_COUNT] = {"ok", "missing", "error", "invalid"};
    return (unsigned)status < KPI_STATUS_COUNT ? names[status] : "error";
}
