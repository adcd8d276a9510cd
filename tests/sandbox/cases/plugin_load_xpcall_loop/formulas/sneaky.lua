-- loops in an xpcall message handler while it is loaded
xpcall(function() error('first') end, function() while true do end end)
return function(v) return v end
