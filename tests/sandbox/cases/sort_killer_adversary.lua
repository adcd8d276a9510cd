-- expect: ok
-- runs: 3
-- why: McIlroy's killer adversary, a valid comparator defined lazily over
--   260 elements: Lua 5.4's table.sort picks a random pivot (from clock and
--   time) on unbalanced partitions, so the order, and this value, differed
--   per run. table.sort must be deterministic.
local n = 260
local gas = n + 1
local val, t = {}, {}
local solid, candidate = 0, nil
for i = 1, n do t[i] = i; val[i] = gas end
local function freeze(x) solid = solid + 1; val[x] = solid end
local function less(a, b)
  if val[a] == gas and val[b] == gas then
    if a == candidate then freeze(a) else freeze(b) end
  end
  if val[a] == gas then candidate = a elseif val[b] == gas then candidate = b end
  return val[a] < val[b]
end
table.sort(t, less)
local h = 0
for i = 1, n do h = (h * 31 + t[i]) % 1000000007 end
return h
