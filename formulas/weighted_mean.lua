-- weighted_mean(v1, w1, v2, w2, ...): the average of values v weighted by w, sum(v * w) / sum(w); weights >= 0
-- Pairs rather than two lists: a formula has no tables of inputs, and a
-- value written next to its weight is hard to misalign. A negative weight
-- has no meaning, and weights adding up to 0 leave nothing to average.
return function(...)
  local n = select("#", ...)
  if n == 0 then
    error("weighted_mean: no arguments", 2)
  end
  if n % 2 ~= 0 then
    error("weighted_mean: " .. n .. " arguments; give pairs of value, weight", 2)
  end
  local total, weights = 0, 0
  for i = 1, n, 2 do
    local v, w = select(i, ...)
    local k = (i + 1) // 2
    if type(v) ~= "number" then
      error("weighted_mean: value " .. k .. " must be a number, got " .. type(v), 2)
    elseif v ~= v or v == math.huge or v == -math.huge then
      error("weighted_mean: value " .. k .. " is not finite (" .. (v ~= v and "nan" or tostring(v)) .. ")", 2)
    elseif type(w) ~= "number" then
      error("weighted_mean: weight " .. k .. " must be a number, got " .. type(w), 2)
    elseif w ~= w or w == math.huge or w == -math.huge then
      error("weighted_mean: weight " .. k .. " is not finite (" .. (w ~= w and "nan" or tostring(w)) .. ")", 2)
    elseif w < 0 then
      error("weighted_mean: weight " .. k .. " is negative (" .. tostring(w) .. ")", 2)
    end
    total = total + v * w
    weights = weights + w
  end
  if weights == 0 then
    error("weighted_mean: the weights add up to 0", 2)
  end
  return total / weights
end
