-- expect: ok
-- actual: 15
-- why: the library as it was: math.floor(2.5) = 2, ('abc'):len() = 3,
--   string.len('ab') = 2, #string.format('%d', 42) = 2, #table.concat({1,
--   2}) = 2, #utf8.char(72) = 1, math.pi > 3.14 gives 3.
return math.floor(2.5) + ('abc'):len() + string.len('ab') + #string.format('%d', 42)
  + #table.concat({1, 2}) + #utf8.char(72) + (math.pi > 3.14 and 3 or 0)
