-- expect: ok
-- actual: 1234
-- runs: 2
-- why: pairs over numbers, strings and booleans visits them in a fixed
--   order (numbers ascending, strings by bytes, false before true), so
--   the digits come out the same in every run.
local t = {[true] = 4, b = 3, [2] = 1, a = 2, [false] = 0}
local s = ''
for _, v in pairs(t) do if v > 0 then s = s .. v end end
return tonumber(s)
