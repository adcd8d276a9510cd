-- expect: error
-- message: too many results
-- why: table.unpack of a hundred million values would need a stack of
--   1.6 GB; Lua refuses it with an ordinary error.
return select('#', table.unpack({}, 1, 1e8))
