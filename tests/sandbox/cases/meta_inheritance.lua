-- expect: ok
-- actual: 7
-- why: sealing metatables keeps ordinary class patterns working: a class
--   with its own metatable (inheritance), methods added after use.
local Base = {}
Base.__index = Base
function Base.f() return 3 end
local D = setmetatable({}, {__index = Base})
D.__index = D
local o = setmetatable({}, D)
function D.g() return 4 end
return o.f() + o.g()
