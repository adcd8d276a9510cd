-- expect: error
-- message: protected metatable
-- why: removing the seal of a metatable, to add __mode after all, is
--   refused.
local mt = {}
local w = setmetatable({}, mt)
setmetatable(mt, nil)
mt.__mode = "v"
return 1
