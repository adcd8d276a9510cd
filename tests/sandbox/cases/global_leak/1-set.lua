-- expect: ok
-- actual: 42
-- why: sets globals (plain and through _ENV) for the next KPI to find.
leak = 42
_ENV.leak2 = 43
return leak
