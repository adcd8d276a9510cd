-- growth(current, previous): percent change from previous to current, (current - previous) / |previous| * 100
local function check(what, x)
  if type(x) ~= "number" then
    error("growth: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("growth: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

-- Dividing by |previous| keeps the sign meaning "went up" even when previous
-- is negative: growth(-5, -10) is +50, not -50.
return function(current, previous)
  check("current", current)
  check("previous", previous)
  if previous == 0 then
    error("growth: previous is 0", 2)
  end
  return (current - previous) / math.abs(previous) * 100
end
