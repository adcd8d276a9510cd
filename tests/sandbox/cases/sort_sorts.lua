-- expect: ok
-- actual: 1
-- why: the deterministic table.sort still sorts: numbers, strings, with
--   and without a comparator, stable for equal keys, and 0 or 1 element.
local a = {5, 3, 9, 1, 7, 2, 8, 6, 4, 10}
table.sort(a)
for i = 1, 10 do assert(a[i] == i) end
local s = {"pear", "apple", "fig", "kiwi"}
table.sort(s, function(x, y) return x > y end)
assert(table.concat(s, ",") == "pear,kiwi,fig,apple")
local r = {{k = 1, v = "a"}, {k = 0, v = "b"}, {k = 1, v = "c"}, {k = 0, v = "d"}}
table.sort(r, function(x, y) return x.k < y.k end)
assert(r[1].v == "b" and r[2].v == "d" and r[3].v == "a" and r[4].v == "c")
local e = {} table.sort(e)
local one = {42} table.sort(one) assert(one[1] == 42)
assert(not pcall(table.sort, {1, "x"}))
return 1
