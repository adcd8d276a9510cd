-- ratio(part, whole) shadowed by --formulas: per ten thousand
return function(part, whole)
  return part / whole * 10000
end
