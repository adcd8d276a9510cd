-- expect: error
-- message: stack overflow
-- why: __index calling itself through t[k]: every level is a C call, so
--   the C-stack guard ends it.
local t = setmetatable({}, {__index = function(t, k) return t[k] end})
return t.anything
