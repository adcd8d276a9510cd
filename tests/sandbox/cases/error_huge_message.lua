-- expect: error
-- message: xxxxxxxxxx
-- why: a 10 MB error message (Lua copies it once to add the position):
--   it has to travel from the evaluation (a worker) to the report and
--   still come out as at most 512 bytes, without stalling the run.
error(string.rep('x', 1e7))
