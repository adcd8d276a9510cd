-- loops when called
return function(v) while true do end return v end
