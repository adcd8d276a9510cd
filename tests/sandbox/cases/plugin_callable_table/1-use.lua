-- expect: stop
-- stderr: callable.lua
-- why: a callable table is not a function (formats.md: "returns a
--   function"); the run stops naming the file.
callable(x)
