-- expect: error
-- message: instruction limit
-- why: three pcalls deep, then a value that would look fine if any of
--   them swallowed the stop.
pcall(pcall, pcall, function() while true do end end)
return 75
