-- count(x1, x2, ...): how many arguments are true or a number greater than 0, e.g. quarters that held an event
-- A count of "how many did happen": a quarter with 2 events counts once, a
-- quarter with 0 not at all, and a condition counts when it holds:
-- count(rate_a >= 90, rate_b >= 90). Negative numbers are not counted
-- (nothing happened); anything but a number or a boolean is an error rather
-- than a guess.
return function(...)
  local n = select("#", ...)
  if n == 0 then
    error("count: no arguments", 2)
  end
  local counted = 0
  for i = 1, n do
    local x = select(i, ...)
    if type(x) == "boolean" then
      if x then
        counted = counted + 1
      end
    elseif type(x) ~= "number" then
      error("count: argument " .. i .. " must be a number or a boolean, got " .. type(x), 2)
    elseif x ~= x or x == math.huge or x == -math.huge then
      error("count: argument " .. i .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 2)
    elseif x > 0 then
      counted = counted + 1
    end
  end
  return counted
end
