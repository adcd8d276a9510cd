-- expect: error
-- message: not available
-- why: reading the environment.
return #os.getenv('HOME')
