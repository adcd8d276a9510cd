-- expect: error
-- message: __mode is not allowed
-- why: a weak table shows when the collector ran, which depends on the
--   KPIs evaluated before in the same worker: __mode is refused.
local w = setmetatable({}, {__mode = "k"})
w[{}] = 1
return 1
