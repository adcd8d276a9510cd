-- expect: ok
-- actual: 42
-- why: a formula may replace its own environment; it then sees only what
--   it put there (x is no longer the input 3).
local _ENV = {x = 42}
return x
