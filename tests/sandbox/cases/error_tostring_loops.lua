-- expect: error
-- why: a table error object whose __tostring never returns. Turning it
--   into a message must not run it outside the limits (that would hang
--   the run).
error(setmetatable({}, {__tostring = function() while true do end end}))
