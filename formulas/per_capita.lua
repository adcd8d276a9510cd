-- per_capita(count, population, per): count / population * per; per person (1인당) when per is left out, or per 1000, 100000 people
local function check(what, x)
  if type(x) ~= "number" then
    error("per_capita: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("per_capita: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  end
end

-- per defaults to 1 (1인당); plans write their rates per 1,000 or per
-- 100,000 people (인구 10만명당), which is the third argument. A population
-- or a per that is 0 or negative has no meaning, so both are refused.
return function(count, population, per)
  check("count", count)
  check("population", population)
  if per == nil then
    per = 1
  end
  check("per", per)
  if population == 0 then
    error("per_capita: population is 0", 2)
  end
  if population < 0 then
    error("per_capita: population is negative (" .. tostring(population) .. ")", 2)
  end
  if per <= 0 then
    error("per_capita: per must be greater than 0, got " .. tostring(per), 2)
  end
  return count / population * per
end
