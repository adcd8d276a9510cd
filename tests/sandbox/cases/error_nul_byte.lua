-- expect: error
-- message: before
-- why: a NUL byte inside the message must not reach kpis.csv.
error('before\0after')
