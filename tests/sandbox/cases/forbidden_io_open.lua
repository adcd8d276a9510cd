-- expect: error
-- message: not available
-- why: writing a file from a formula (relative to the working folder, which the test checks stays empty).
io.open('pwned-by-io', 'w'):write('x')
return 75
