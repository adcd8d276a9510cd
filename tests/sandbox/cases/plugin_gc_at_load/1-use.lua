-- expect: error
-- message: failed to load
-- message: finalizer.lua
-- message: __gc
-- why: setmetatable refuses __gc in plugins too; an error while loading
--   means the file does not return a function: the KPIs that call it
--   are in error naming it.
finalizer(x)
