-- progress(actual, plan): actual against plan in percent, actual / plan * 100; plan must be > 0
local function check(what, x)
  if type(x) ~= "number" then
    error("progress: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("progress: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

return function(actual, plan)
  check("actual", actual)
  check("plan", plan)
  if plan == 0 then
    error("progress: plan is 0", 2)
  end
  if plan < 0 then
    error("progress: plan is negative (" .. tostring(plan) .. ")", 2)
  end
  return actual / plan * 100
end
