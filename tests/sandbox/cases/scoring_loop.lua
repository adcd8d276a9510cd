-- expect: error
-- actual: 3
-- message: instruction limit
-- scoring: (function() while true do end end)()
-- why: the scoring expression runs under the same limits as the formula.
x
