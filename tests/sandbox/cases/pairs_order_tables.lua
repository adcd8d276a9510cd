-- expect: error
-- message: no fixed order
-- runs: 5
-- mixed: no (its own five runs are the check)
-- why: table keys hash by address; iterating them would yield an order
--   that depends on where the allocator put them, so pairs refuses.
local keys, t = {}, {}
for i = 1, 8 do keys[i] = {} t[keys[i]] = i end
local n = 0
for _, v in pairs(t) do n = n * 10 + v end
return n
