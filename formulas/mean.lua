-- mean(x1, x2, ...): the average (평균) of one or more numbers, their sum divided by how many there are
return function(...)
  local n = select("#", ...)
  if n == 0 then
    error("mean: no arguments", 2)
  end
  local total = 0
  for i = 1, n do
    local x = select(i, ...)
    if type(x) ~= "number" then
      error("mean: argument " .. i .. " must be a number, got " .. type(x), 2)
    elseif x ~= x or x == math.huge or x == -math.huge then
      error("mean: argument " .. i .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 2)
    end
    total = total + x
  end
  return total / n
end
