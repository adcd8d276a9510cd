-- expect: error
-- message: table|function
-- runs: 2
-- why: '%s' of a table or function would print its address; the message
--   holds the type names and two runs are byte-identical.
error(string.format('%s|%s', {}, tostring))
