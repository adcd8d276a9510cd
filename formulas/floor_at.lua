-- floor_at(x, lo): x, but at least lo, e.g. floor_at(growth(visitors, visitors_2018), 0) counts a fall as 0
local function check(what, x)
  if type(x) ~= "number" then
    error("floor_at: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("floor_at: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

-- Not `floor`: math.floor rounds down to a whole number, which is another thing.
return function(x, lo)
  check("x", x)
  check("lo", lo)
  if x < lo then
    return lo
  end
  return x
end
