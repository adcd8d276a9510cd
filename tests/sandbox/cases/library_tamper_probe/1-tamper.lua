-- expect: ok
-- actual: 1
-- why: every write to the shared library it can think of, each under
--   pcall so the KPI itself ends normally. None may reach the next KPI.
local mt = getmetatable('')
local attempts = {
  function() math.pi = 3 end,
  function() math.floor = function() return 99 end end,
  function() string.len = function() return 99 end end,
  function() string.format = function() return 'pwned' end end,
  function() table.concat = function() return 'pwned' end end,
  function() utf8.char = nil end,
  function() local _, s = pairs(string); s.len = function() return 99 end end,
  function() mt.__index = {len = function() return 99 end} end,
  function() mt.__index.len = function() return 99 end end,
  function() getmetatable(math).__index.pi = 3 end,
  function() getmetatable(_ENV).__index = function() return 99 end end,
  function() setmetatable(_ENV, {__index = function() return 99 end}) end,
  function() kpi.id = 'someone-else' end,
}
for _, f in ipairs(attempts) do pcall(f) end
return 1
