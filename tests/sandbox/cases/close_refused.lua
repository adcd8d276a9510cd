-- expect: error
-- message: __close
-- why: a __close handler runs when the block is left, including when
--   an abandoned evaluation is cleaned up; setmetatable refuses it.
local guard <close> = setmetatable({}, {__close = function() while true do end end})
return 75
