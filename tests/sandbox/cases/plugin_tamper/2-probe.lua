-- expect: ok
-- actual: 34
-- why: the next KPI sees the library and the other plugins unchanged:
--   floor(2.5) = 2, ('abc'):len() = 3, #format('%d', 42) = 2, string.len('ab')
--   = 2, ratio(1, 4) = 25.
math.floor(2.5) + ('abc'):len() + #string.format('%d', 42) + string.len('ab') + ratio(1, 4)
