-- expect: error
-- message: not available
-- why: print writes to kpieval's standard output.
print('pwned')
return 75
