-- expect: error
-- message: not available
-- why: package.loadlib loads C code.
return package.loadlib('libc.so.6', '*')
