-- expect: error
-- message: failed to load
-- message: sneaky.lua
-- message: instruction limit
-- timeout: 30
-- why: pure Lua, no C call: an endless xpcall message handler while the
--   plugin is loaded. The load-time check runs under the instruction
--   limit (docs/security.md), so the KPIs calling the plugin are in error
--   naming it; it must not hang.
sneaky(x)
