-- expect: error
-- message: leaving now
-- why: like close_added_later_loop, but the block ends in an error that
--   leaves the evaluation: the pending endless handler must not be run
--   by cleaning up the thread.
local mt = {}
local t = setmetatable({}, mt)
mt.__close = function() while true do end end
local guard <close> = t
error('leaving now')
