-- expect: error
-- message: not available
-- why: os.exit would end kpieval (or its worker) in the middle of the run.
os.exit(0)
