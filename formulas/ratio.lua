-- ratio(part, whole): part as a percentage of whole, part / whole * 100
local function check(what, x)
  if type(x) ~= "number" then
    error("ratio: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("ratio: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

return function(part, whole)
  check("part", part)
  check("whole", whole)
  if whole == 0 then
    error("ratio: whole is 0", 2)
  end
  return part / whole * 100
end
