-- expect: error
-- message: not available
-- why: the Lua 5.1 name of load.
return loadstring('return 75')()
