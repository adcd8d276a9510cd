-- expect: error
-- why: an error object that is a table: still status error with a
--   message, no address shown.
error({code = 75})
