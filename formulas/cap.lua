-- cap(x, hi): x, but at most hi, e.g. cap(ratio(enrolled, places), 100) for a rate that may not pass 100
local function check(what, x)
  if type(x) ~= "number" then
    error("cap: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("cap: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

return function(x, hi)
  check("x", x)
  check("hi", hi)
  if x > hi then
    return hi
  end
  return x
end
