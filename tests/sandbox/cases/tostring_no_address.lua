-- expect: error
-- message: addr=table/function/function
-- runs: 2
-- why: tostring of tables and functions gives the type name, not an
--   address, so two runs write byte-identical reports.
error('addr=' .. tostring({}) .. '/' .. tostring(tostring) .. '/' .. tostring(function() end))
