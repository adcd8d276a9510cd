-- ratio(part, whole) from the first --formulas folder: per ten thousand
return function(part, whole)
  return part / whole * 10000
end
