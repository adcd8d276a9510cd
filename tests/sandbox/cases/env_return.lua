-- expect: error
-- message: table
-- why: returning the environment itself: a table, not a number, and the
--   message says what came back.
return _ENV
