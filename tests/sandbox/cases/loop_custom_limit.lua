-- expect: error
-- message: instruction limit of 100000 exceeded
-- args: --max-instructions 100000
-- why: --max-instructions sets the budget and the message names it.
local n = 0
while true do n = n + 1 end
