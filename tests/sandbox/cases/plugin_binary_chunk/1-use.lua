-- expect: stop
-- stderr: compiled.lua
-- stderr: binary
-- why: Lua trusts bytecode and a crafted chunk crashes the VM; a binary
--   plugin stops the run with a message (docs/security.md). The runner
--   compiles binary/compiled.lua into the dataset's formulas/.
compiled(x)
