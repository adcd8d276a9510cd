-- reduction(current, previous): percent decrease (감소율) from previous to current, (previous - current) / previous * 100
local function check(what, x)
  if type(x) ~= "number" then
    error("reduction: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("reduction: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

-- A positive result means "went down": reduction(90, 100) is 10, and a rise
-- is negative, reduction(110, 100) is -10. What is reduced is a count or an
-- amount (accidents, complaints, days), so previous must be greater than 0;
-- for anything that can be negative, use growth.
return function(current, previous)
  check("current", current)
  check("previous", previous)
  if previous == 0 then
    error("reduction: previous is 0", 2)
  end
  if previous < 0 then
    error("reduction: previous is negative (" .. tostring(previous) .. ")", 2)
  end
  return (previous - current) / previous * 100
end
