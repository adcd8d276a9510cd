-- expect: error
-- message: not available
-- why: next visits keys in hash order, which follows per-process string
--   hash seeds; it is left out (docs/security.md) in favour of pairs.
local k = next({alpha = 1, beta = 2})
return #k
