-- expect: error
-- message: cannot gain __gc
-- why: (a sealed metatable refuses it now.) __gc added to the metatable after setmetatable. Lua only marks an
--   object for finalization when __gc is present at setmetatable time
--   (manual 2.5.3), so the endless finalizer never runs: not in this KPI,
--   not during the ordinary KPIs after it, not at exit.
local mt = {}
local t = setmetatable({}, mt)
mt.__gc = function() while true do end end
t = nil
return 1
