-- expect: ok
-- actual: 3
-- why: the string metatable is shared by every string of the process.
--   getmetatable('') gives a placeholder; changing it (or anything
--   reached through it) must not change ('abc'):len().
pcall(function() getmetatable('').__index = {len = function() return 99 end} end)
pcall(function() getmetatable('').__index.len = function() return 99 end end)
pcall(function() getmetatable('abc').__len = function() return 99 end end)
pcall(function() setmetatable('', {}) end)
return ('abc'):len()
