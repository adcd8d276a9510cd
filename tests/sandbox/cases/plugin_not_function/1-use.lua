-- expect: stop
-- stderr: notfunc.lua
-- why: a plugin file must return a function; otherwise the run stops
--   (exit 2) naming the file, and nothing is written.
notfunc(x)
