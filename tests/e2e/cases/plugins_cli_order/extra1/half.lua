-- half(x): x divided by two
return function(x)
  return x / 2
end
