-- expect: error
-- message: failed to load
-- message: callable.lua
-- why: a callable table is not a function (formats.md: "returns a
--   function"); the KPIs that call it are in error naming the file.
callable(x)
