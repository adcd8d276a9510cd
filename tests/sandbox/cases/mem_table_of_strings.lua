-- expect: error
-- message: memory limit
-- why: a thousand distinct megabyte strings kept alive in a table.
local t = {}
for i = 1, 1000 do t[i] = string.rep('x', 1e6) .. i end
return #t
