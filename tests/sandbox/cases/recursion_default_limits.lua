-- expect: error
-- why: the same recursion under the default limits: whichever comes
--   first (instructions, memory or Lua's stack limit) ends it as an error.
local function f(n) return 1 + f(n + 1) end
return f(1)
