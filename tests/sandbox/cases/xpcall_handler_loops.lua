-- expect: error
-- message: instruction limit
-- mixed: no (if the limit fails here, --in-process hangs; its own case runs it)
-- why: the message handler of xpcall runs where Lua cannot yield; a
--   handler that loops must still be stopped, and the formula must not
--   carry on to return 75.
xpcall(function() error('first') end, function() while true do end end)
return 75
