-- expect: error
-- message: memory limit of 4194304 bytes exceeded
-- args: --max-instructions 1000000000 --max-memory 4M
-- why: a table growing one integer at a time, with an instruction budget
--   too big to matter: the 4 MiB cap stops it.
local t, i = {}, 0
while true do i = i + 1; t[i] = i end
