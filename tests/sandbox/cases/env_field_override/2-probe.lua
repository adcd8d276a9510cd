-- expect: ok
-- actual: 4
-- why: the next KPI sees the real library: floor(1.5) = 1, plus 3 from
--   string.len('abc').
return math.floor(1.5) + string.len('abc')
