-- expect: error
-- message: time limit
-- args: --time-limit 1
-- mixed: no (runs for minutes without a time limit)
-- why: pairs sorts the keys in C, which the instruction hook does not
--   count: each pairs() over 100,000 keys costs a few instructions and
--   tens of milliseconds. Only the wall-time limit bounds the loop.
local t = {}
for i = 1, 100000 do t[i * 2 + 0.5] = true end
local n = 0
for r = 1, 1e6 do pairs(t) n = n + 1 end
return n
