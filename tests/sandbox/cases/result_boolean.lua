-- expect: error
-- message: boolean
-- why: a comparison instead of a number.
return x < y
