-- expect: error
-- message: __gc
-- why: a finalizer would run later, during some other KPI (or in no
--   KPI at all); setmetatable refuses __gc.
setmetatable({}, {__gc = function() while true do end end})
return 75
