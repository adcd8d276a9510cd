-- expect: error
-- message: stack overflow
-- why: __eq comparing its own arguments again.
local mt = {}
mt.__eq = function(a, b) return a == b end
local a, b = setmetatable({}, mt), setmetatable({}, mt)
return a == b and 1 or 0
