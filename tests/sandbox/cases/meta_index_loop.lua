-- expect: error
-- message: loop
-- why: a table that is its own __index: Lua's chain limit reports a loop.
local t = {}
setmetatable(t, {__index = t})
return t.anything
