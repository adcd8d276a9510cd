-- expect: error
-- message: failed to load
-- message: spin.lua
-- message: instruction limit
-- why: a plugin is run once at start to check it returns a function;
--   that run is under the limits too, and a failure costs the KPIs that call it.
spin(x)
