-- expect: error
-- message: stack overflow
-- why: __concat concatenating its own arguments again.
local mt = {}
mt.__concat = function(a, b) return a .. b end
local a = setmetatable({}, mt)
return #(a .. 'x')
