-- expect: error
-- message: read-only
-- why: string is also the __index of every string: ('x'):upper() in a
--   later KPI would call this.
string.upper = function() return 'pwned' end
return 75
