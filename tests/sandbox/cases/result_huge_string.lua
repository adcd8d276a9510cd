-- expect: error
-- message: string
-- why: a 30 MB string as the result: not a number; the message quotes at
--   most a short piece of it.
return string.rep('7', 3e7)
