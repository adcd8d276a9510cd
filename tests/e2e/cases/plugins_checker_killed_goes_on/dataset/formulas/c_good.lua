-- c_good(x): x times 10
return function(x) return x * 10 end
