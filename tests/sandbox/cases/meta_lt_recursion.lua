-- expect: error
-- message: stack overflow
-- why: __lt comparing its own arguments again.
local mt = {}
mt.__lt = function(a, b) return a < b end
local a, b = setmetatable({}, mt), setmetatable({}, mt)
return a < b and 1 or 0
