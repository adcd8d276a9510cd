-- expect: stop
-- stderr: spin.lua
-- stderr: instruction limit
-- why: a plugin is run once at start to check it returns a function;
--   that run is under the limits too, and a failure stops the run.
spin(x)
