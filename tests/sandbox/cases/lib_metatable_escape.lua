-- expect: ok
-- actual: 3.14
-- why: getmetatable(math).__index would be the real math table if the
--   read-only proxy's metatable were reachable; every route is tried
--   under pcall, and math.pi must still be pi afterwards.
pcall(function() getmetatable(math).__index.pi = 3 end)
pcall(function() getmetatable(math).__newindex = nil end)
pcall(function() setmetatable(math, nil) end)
pcall(function() local _, s = pairs(math); s.pi = 3 end)
pcall(function() for k, v in pairs(math) do if type(v) == 'table' then v.pi = 3 end end end)
return math.pi
