-- expect: ok
-- actual: 50
-- achievement: 50.00
-- capped: 50.00
-- why: the kpi table is the formula's own copy; changing target, weight
--   or direction in it does not change how the KPI is scored (target 100).
kpi.target = 1
kpi.weight = 0
kpi.direction = 'decrease'
return 50
