-- expect: error
-- message: instruction limit
-- why: endless proper tail calls never grow the stack, so only the
--   instruction budget can end them.
local function spin(n) return spin(n + 1) end
return spin(0)
