-- expect: error
-- message: time limit
-- args: --time-limit 1
-- mixed: no (hangs in C; --in-process could never stop it)
-- why: a backtracking pattern that runs for ages inside string.find,
--   never returning to the VM, so the instruction hook never fires. The
--   wall-time limit kills the worker; the other KPIs are still evaluated.
return string.find(string.rep('a', 5000), string.rep('a*', 20) .. 'b')
