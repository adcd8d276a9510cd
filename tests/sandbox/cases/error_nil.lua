-- expect: error
-- why: error(nil): an error without an error object.
error(nil)
