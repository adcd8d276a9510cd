-- expect: error
-- message: stack overflow
-- args: --max-instructions 100000000 --max-memory 512M
-- why: unbounded non-tail recursion with limits high enough that Lua's
--   own stack limit (about 200,000 frames) ends it as an error.
local function f(n) return 1 + f(n + 1) end
return f(1)
