-- expect: missing
-- message: nowhere_defined
-- why: name resolution as it was: an unknown name is still missing.
return nowhere_defined
