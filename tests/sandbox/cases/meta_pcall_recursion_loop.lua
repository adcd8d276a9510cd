-- expect: error
-- message: instruction limit
-- why: the C-stack error of a recursive __index is caught by pcall, again
--   and again: only the instruction budget ends it.
local t = setmetatable({}, {__index = function(t, k) return t[k] end})
while true do pcall(function() return t.x end) end
