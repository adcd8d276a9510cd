-- expect: error
-- message: instruction limit
-- why: table.sort calls the comparator from C, where the hook cannot
--   yield; the limit must still end the formula.
local t = {5, 3, 1, 4, 2}
table.sort(t, function(a, b) while true do end end)
return t[1]
