-- expect: ok
-- actual: 75
-- why: the standard plugins still work in the next KPI.
ratio(x, y)
