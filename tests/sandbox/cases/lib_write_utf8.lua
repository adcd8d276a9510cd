-- expect: error
-- message: read-only
-- why: utf8 is a library table like the others.
utf8.char = nil
return 75
