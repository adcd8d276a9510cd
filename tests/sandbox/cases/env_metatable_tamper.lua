-- expect: missing
-- message: nowhere_defined
-- why: the environment's metatable resolves names; if a formula could
--   change it (shared by all KPIs!) later lookups would go through the
--   formula's code. Every attempt is made under pcall; the name must
--   still be found nowhere, so the KPI is missing.
pcall(function() getmetatable(_ENV).__index = function() return 75 end end)
pcall(function() setmetatable(_ENV, {__index = function() return 75 end}) end)
return nowhere_defined
