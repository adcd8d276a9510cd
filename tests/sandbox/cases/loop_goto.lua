-- expect: error
-- message: instruction limit
-- why: a backward goto is a loop the parser cannot see as one.
::again:: goto again
