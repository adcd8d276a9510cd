-- expect: error
-- message: instruction limit
-- why: __tostring runs from inside the C function tostring.
return tostring(setmetatable({}, {__tostring = function() while true do end end}))
