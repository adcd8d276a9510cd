-- expect: error
-- message: 75
-- why: a number error object is converted like Lua does.
error(75)
