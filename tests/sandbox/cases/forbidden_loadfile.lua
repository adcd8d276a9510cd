-- expect: error
-- message: not available
-- why: compiles a file from disk.
return loadfile('/etc/passwd')()
