-- broken(x): does not compile
return function(x) return x + end
