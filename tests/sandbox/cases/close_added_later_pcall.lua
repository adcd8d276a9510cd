-- expect: error
-- message: cannot gain __close
-- why: (a sealed metatable now refuses __close added later, the first line of
--   defence; the rest of this case is kept for the second.) here the handler does run, inside pcall, while the error unwinds
--   (where Lua cannot yield); it loops and must be stopped by the limit.
local mt = {}
local t = setmetatable({}, mt)
mt.__close = function() while true do end end
pcall(function()
  local guard <close> = t
  error('unwind')
end)
return 75
