-- expect: ok
-- actual: 1
-- why: plugins get their arguments, not the KPI's inputs or kpi
--   (docs/security.md); to a plugin those names are nil.
peek()
