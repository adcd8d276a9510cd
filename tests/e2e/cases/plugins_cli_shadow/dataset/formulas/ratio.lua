-- ratio(part, whole) shadowed by the dataset: per mille, not percent
return function(part, whole)
  return part / whole * 1000
end
