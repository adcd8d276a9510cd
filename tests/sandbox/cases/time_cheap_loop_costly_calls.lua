-- expect: error
-- message: time limit
-- args: --time-limit 1
-- mixed: no (takes many seconds without a time limit)
-- why: few instructions, each a legal 1 MiB string.rep that is garbage
--   at once: within the instruction and memory limits for many seconds.
--   Only the wall-time limit bounds it.
local n = 0
for i = 1, 1e9 do n = n + #string.rep('x', 2^20) end
return n
