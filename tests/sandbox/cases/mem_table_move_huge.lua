-- expect: error
-- message: memory limit
-- why: table.move walks every index of the range in C, even of an empty
--   table; a range of 1e12 must be refused before it starts.
table.move({}, 1, 1e12, 2)
return 75
