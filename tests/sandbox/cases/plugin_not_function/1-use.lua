-- expect: error
-- message: failed to load
-- message: notfunc.lua
-- why: a plugin file must return a function; otherwise the KPIs that
--   call it are in error naming the file, and the others are evaluated.
notfunc(x)
