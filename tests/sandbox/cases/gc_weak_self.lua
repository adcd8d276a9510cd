-- expect: error
-- message: own metatable
-- why: a table as its own metatable would bypass the seal (its writes
--   are its metatable's writes).
local t = {}
setmetatable(t, t)
t.__mode = "k"
return 1
