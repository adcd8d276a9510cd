-- expect: error
-- message: memory limit
-- why: string.rep('', 1e15) is empty, but with a separator the result
--   would be a petabyte: the size check must count the separator.
return #string.rep('', 1e15, ',')
