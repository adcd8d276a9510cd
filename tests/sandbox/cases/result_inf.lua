-- expect: error
-- message: inf
-- why: a division by zero gives inf.
return x / 0
