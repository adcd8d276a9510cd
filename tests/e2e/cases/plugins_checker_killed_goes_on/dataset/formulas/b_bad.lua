-- b_bad(x): fails at its top level, checked after a_hang
local t = nil
return t.field
