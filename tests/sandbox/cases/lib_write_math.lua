-- expect: error
-- message: read-only
-- why: writes to a library table would change what every later KPI sees.
math.floor = function() return 999 end
return math.floor(1.5)
