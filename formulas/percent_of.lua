-- percent_of(value, percent): value * percent / 100, e.g. a target set at 110% of last year's count
local function check(what, x)
  if type(x) ~= "number" then
    error("percent_of: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("percent_of: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

-- Multiplying before dividing keeps whole-number cases exact:
-- percent_of(100, 110) is 110, where 100 * 1.1 is 110.00000000000001.
return function(value, percent)
  check("value", value)
  check("percent", percent)
  return value * percent / 100
end
