-- expect: error
-- message: dump
-- why: string.dump would turn functions into bytecode (docs/security.md: string without dump).
return #string.dump(function() end)
