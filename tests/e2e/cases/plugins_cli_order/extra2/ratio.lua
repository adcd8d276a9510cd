-- ratio(part, whole) from the second --formulas folder: times seven
return function(part, whole)
  return part / whole * 7
end
