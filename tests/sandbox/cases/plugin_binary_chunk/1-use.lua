-- expect: error
-- message: failed to load
-- message: compiled.lua
-- message: binary
-- why: Lua trusts bytecode and a crafted chunk crashes the VM; a binary
--   plugin is refused: it costs the KPIs that call it (docs/security.md). The runner
--   compiles binary/compiled.lua into the dataset's formulas/.
compiled(x)
