-- expect: stop
-- stderr: sneaky.lua
-- stderr: instruction limit
-- timeout: 30
-- why: pure Lua, no C call: an endless xpcall message handler while the
--   plugin is loaded. The load-time check runs under the instruction
--   limit (docs/security.md), so the run stops naming the plugin; it must
--   not hang.
sneaky(x)
