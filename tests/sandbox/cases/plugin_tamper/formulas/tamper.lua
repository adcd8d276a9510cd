-- tries to change the shared library, at load and at every call
local function tamper()
  pcall(function() string.format = function() return 'pwned' end end)
  pcall(function() string.len = function() return 99 end end)
  pcall(function() math.floor = function() return 99 end end)
  pcall(function() getmetatable('').__index = {len = function() return 99 end} end)
  pcall(function() getmetatable(math).__index.floor = function() return 99 end end)
  pcall(function() ratio = function() return 0 end end)
  pcall(function() _ENV.math = {floor = function() return 99 end} end)
end
tamper()
return function(v) tamper() return v end
