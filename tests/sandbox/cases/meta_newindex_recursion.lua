-- expect: error
-- message: stack overflow
-- why: __newindex assigning through itself.
local t = setmetatable({}, {__newindex = function(t, k, v) t[k] = v end})
t.x = 1
return 75
