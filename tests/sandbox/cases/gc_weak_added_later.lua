-- expect: error
-- message: cannot gain __mode
-- why: __mode added to the metatable after setmetatable would still make
--   the table weak (the collector reads it at every cycle): a table used
--   as a metatable is sealed against it.
local mt = {}
local w = setmetatable({}, mt)
mt.__mode = "k"
return 1
