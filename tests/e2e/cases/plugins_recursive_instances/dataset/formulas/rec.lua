-- rec(n): sets a global, recurses through a second instance of itself, returns the global
return function(n)
  mark = n
  if n > 0 then rec(n - 1) end
  return mark
end
