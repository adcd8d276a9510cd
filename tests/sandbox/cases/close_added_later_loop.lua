-- expect: error
-- message: cannot gain __close
-- why: (a sealed metatable now refuses __close added later, the first line of
--   defence; the rest of this case is kept for the second.) __close added after setmetatable, so the to-be-closed variable is
--   accepted. The block never ends; once the limit stops it the
--   evaluation is abandoned and the endless handler must never run
--   (docs/security.md: "never resumed or cleaned up by running code").
local mt = {}
local t = setmetatable({}, mt)
mt.__close = function() while true do end end
local guard <close> = t
while true do end
