-- clamp(x, lo, hi): x held within lo and hi, e.g. clamp(growth(sales, sales_2018), 0, 100)
local function check(what, x)
  if type(x) ~= "number" then
    error("clamp: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("clamp: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

-- lo above hi is a mistake in the formula (the bounds swapped), not a
-- value to pick one of the bounds for.
return function(x, lo, hi)
  check("x", x)
  check("lo", lo)
  check("hi", hi)
  if lo > hi then
    error("clamp: lo (" .. tostring(lo) .. ") is above hi (" .. tostring(hi) .. ")", 2)
  end
  if x < lo then
    return lo
  elseif x > hi then
    return hi
  end
  return x
end
