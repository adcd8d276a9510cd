-- expect: error
-- message: memory limit of 33554432 bytes exceeded
-- why: one string.rep of a gigabyte; refused against the default 32 MiB
--   before it allocates or loops.
return #string.rep('x', 1e9)
