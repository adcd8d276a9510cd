-- expect: error
-- message: memory limit
-- why: the refused string.rep is caught by pcall and the formula goes on
--   to return a plausible value; a memory stop is not catchable.
pcall(string.rep, 'x', 1e12)
return 75
