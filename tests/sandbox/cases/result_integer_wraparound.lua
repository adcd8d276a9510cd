-- expect: ok
-- achievement: 0.00
-- capped: 0.00
-- why: math.maxinteger + 1 wraps around to math.mininteger (Lua integer
--   arithmetic); that is a finite number, so the KPI is ok, and the
--   ratio rule floors the negative achievement at 0.
return math.maxinteger + 1
