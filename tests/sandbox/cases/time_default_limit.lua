-- expect: error
-- message: time limit of 2
-- mixed: no (hangs in C; --in-process could never stop it)
-- why: without --time-limit the default wall time per formula is 2 s.
return string.match(string.rep('a', 5000), string.rep('a*', 20) .. 'b')
