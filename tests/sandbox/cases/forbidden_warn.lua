-- expect: error
-- message: not available
-- why: warn is a Lua 5.4 base function that writes to stderr; it is not in the allowed list.
warn('@on')
return 75
