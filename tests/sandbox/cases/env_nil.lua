-- expect: error
-- message: _ENV
-- why: _ENV set to nil; the next name lookup fails with an ordinary error.
_ENV = nil
return x
