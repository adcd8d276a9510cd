-- expect: ok
-- actual: 7
-- why: pcall inside pcall without end nests C calls; Lua's C-stack guard
--   turns the 200th level into an error that the innermost pcall catches,
--   which returns 7 all the way up. Must not crash the host.
local function f(n)
  local ok, v = pcall(f, n + 1)
  if ok then return v end
  return 7
end
return f(1)
