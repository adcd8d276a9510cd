-- expect: error
-- message: string
-- why: a numeric-looking string is still not a number (no coercion).
return '75'
