-- expect: ok
-- actual: 0
-- achievement: 0.00
-- why: string.rep('', 1e15) is the empty string; the original C loop
--   would run 1e15 times without returning to the VM. It must come back
--   at once with "", a legitimate 0.
return #string.rep('', 1e15)
