-- expect: error
-- message: not available
-- why: _G is a standard Lua name left out on purpose (it would be the
--   shared globals table); using it says so instead of claiming a
--   missing input.
_G.leak = 1
return 75
