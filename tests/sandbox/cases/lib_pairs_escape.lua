-- expect: error
-- message: read-only
-- why: pairs(math) hands out an iterator and a state; neither may be the
--   writable table behind the read-only one. Write through every value
--   pairs returns.
local iter, state = pairs(math)
state.pi = 3
return math.pi
