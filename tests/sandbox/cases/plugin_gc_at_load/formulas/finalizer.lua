-- installs a finalizer while it is loaded
setmetatable({}, {__gc = function() while true do end end})
return function(v) return v end
