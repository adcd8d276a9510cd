-- expect: error
-- message: memory limit
-- why: a small table (100 references to one 1 MB string) whose
--   table.concat would be 100 MB, built inside C.
local s = string.rep('x', 1e6)
local t = {}
for i = 1, 100 do t[i] = s end
return #table.concat(t)
