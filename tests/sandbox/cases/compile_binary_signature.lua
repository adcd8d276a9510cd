-- expect: invalid
-- why: a formula that starts with the binary chunk signature (ESC 'Lua');
--   formulas load in text mode only.
LuaT
