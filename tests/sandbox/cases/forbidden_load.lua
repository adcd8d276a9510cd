-- expect: error
-- message: not available
-- why: load compiles code at run time, binary chunks included.
return load('return 75')()
