-- expect: stop
-- stderr: finalizer.lua
-- stderr: __gc
-- why: setmetatable refuses __gc in plugins too; an error while loading
--   means the file does not return a function: the run stops.
finalizer(x)
