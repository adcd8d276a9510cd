-- expect: error
-- message: instruction limit
-- mixed: no (if the limit fails here, --in-process hangs; its own case runs it)
-- why: the limit is hit in a sort comparator (a C call, where it can
--   only raise an error); that error goes to xpcall's message handler,
--   which loops too. The handler must be stopped by the limit as well.
xpcall(table.sort, function() while true do end end, {3, 1, 2},
       function(a, b) while true do end end)
return 75
