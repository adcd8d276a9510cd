-- satisfaction(very_satisfied, satisfied, neutral, dissatisfied, very_dissatisfied): 100-point score of five-point survey answers (만족도 100점 환산)
-- The usual conversion of Korean public surveys: each answer is worth
-- 100, 75, 50, 25 or 0 points, and the score is the mean over everyone
-- who answered. The arguments are the number (or the share) of answers of
-- each kind, best first.
local function check(what, x)
  if type(x) ~= "number" then
    error("satisfaction: " .. what .. " must be a number, got " .. type(x), 3)
  elseif x ~= x or x == math.huge or x == -math.huge then
    error("satisfaction: " .. what .. " is not finite (" .. (x ~= x and "nan" or tostring(x)) .. ")", 3)
  elseif x < 0 then
    error("satisfaction: " .. what .. " is negative (" .. tostring(x) .. ")", 3)
  end
end

return function(very_satisfied, satisfied, neutral, dissatisfied, very_dissatisfied)
  check("very_satisfied", very_satisfied)
  check("satisfied", satisfied)
  check("neutral", neutral)
  check("dissatisfied", dissatisfied)
  check("very_dissatisfied", very_dissatisfied)
  if very_satisfied + satisfied + neutral + dissatisfied + very_dissatisfied == 0 then
    error("satisfaction: no answers", 2)
  end
  -- A plugin can call the standard library: the points, each weighted by
  -- how many gave that answer.
  return weighted_mean(100, very_satisfied, 75, satisfied, 50, neutral,
                       25, dissatisfied, 0, very_dissatisfied)
end
