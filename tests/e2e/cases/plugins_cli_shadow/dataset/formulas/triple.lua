-- triple(x): three times x
return function(x)
  return x * 3
end
