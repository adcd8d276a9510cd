-- expect: error
-- message: not available
-- why: runs a file from disk.
return dofile('/etc/passwd')
