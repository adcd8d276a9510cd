-- expect: error
-- message: memory limit of 33554432 bytes exceeded
-- why: a string that doubles at each step reaches the cap in 25 steps,
--   long before the instruction budget.
local s = 'x'
while true do s = s .. s end
