-- expect: error
-- actual: 3
-- message: not available
-- scoring: os.exit(1)
-- why: the scoring expression sees the same library as formulas.
x
