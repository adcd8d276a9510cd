-- expect: ok
-- runs: 5
-- mixed: no (its own five runs are the check)
-- why: the order of pairs over string keys follows their hashes, and
--   Lua 5.4 seeds string hashes per process (time and addresses). A
--   formula can turn that order into a number; five runs must still give
--   byte-identical reports (docs/security.md: no non-deterministic results).
local t = {alpha = 1, beta = 2, gamma = 3, delta = 4, epsilon = 5, zeta = 6, eta = 7, theta = 8}
local n = 0
for _, v in pairs(t) do n = n * 10 + v end
return n
