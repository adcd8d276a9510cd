-- double(x): twice x
return function(x)
  return x * 2
end
