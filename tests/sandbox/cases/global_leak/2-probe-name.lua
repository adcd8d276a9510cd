-- expect: missing
-- message: leak
-- why: a fresh environment per KPI: the global of the KPI before is a
--   name found nowhere, so this KPI is missing.
return leak
