-- expect: error
-- message: not available
-- why: rawset writes past __newindex, the guard of the read-only tables.
rawset(math, 'pi', 3)
return math.pi
