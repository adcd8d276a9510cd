-- expect: ok
-- actual: 2
-- why: CVE-2022-33099 (Lua 5.4.4): the C stack overflows while an error
--   is handled. Debian's Lua has the fix; Lua then reports "error in
--   error handling", xpcall returns false and the formula returns 2. A
--   crash here would take the host (or its worker) down.
local function loop() assert(pcall(loop)) end
local ok = xpcall(loop, loop)
return ok and 1 or 2
