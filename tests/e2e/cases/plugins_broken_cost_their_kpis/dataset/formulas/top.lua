-- top(x): its top level fails
local limit = 10
error("top level failed")
return function(x) return x end
