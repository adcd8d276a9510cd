-- expect: ok
-- capped: 120.00
-- why: the largest integer is a finite number: ok, capped at 120.
return math.maxinteger
