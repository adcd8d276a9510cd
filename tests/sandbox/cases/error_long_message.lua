-- expect: error
-- message: xxxxxxxxxx
-- why: a 100 kB message; kpis.csv keeps at most 512 bytes of it.
error(string.rep('x', 100000))
