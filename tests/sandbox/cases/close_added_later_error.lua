-- expect: error
-- message: cannot gain __close
-- why: (a sealed metatable now refuses __close added later, the first line of
--   defence; the rest of this case is kept for the second.) like close_added_later_loop, but the block ends in an error that
--   leaves the evaluation: the pending endless handler must not be run
--   by cleaning up the thread.
local mt = {}
local t = setmetatable({}, mt)
mt.__close = function() while true do end end
local guard <close> = t
error('leaving now')
