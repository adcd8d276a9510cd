-- expect: error
-- message: not available
-- why: plugins see the same library as formulas: no os.
snoop()
