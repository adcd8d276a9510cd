-- a_hang(x): hangs in C while it is loaded
string.find(string.rep('a', 5000), string.rep('a*', 20) .. 'b')
return function(v) return v end
