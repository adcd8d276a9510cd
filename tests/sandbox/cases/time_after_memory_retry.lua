-- expect: error
-- message: time limit of 1 s exceeded
-- args: --time-limit 1 --max-instructions 100000000000 --in-process
-- timeout: 40
-- why: an allocation refused once and retried after a collection left the
--   hook at every instruction with the clock switched off: the loop below
--   ran for minutes. The time limit must still stop it.
local keep
for i = 1, 40 do keep = string.rep("x", 6000000) .. i end
local n = 0
while true do n = n + 1 end
