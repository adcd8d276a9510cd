-- loops while it is loaded
while true do end
return function(v) return v end
