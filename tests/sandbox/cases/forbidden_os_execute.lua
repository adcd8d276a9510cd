-- expect: error
-- message: not available
-- why: running a program.
os.execute('touch pwned-by-os')
return 75
