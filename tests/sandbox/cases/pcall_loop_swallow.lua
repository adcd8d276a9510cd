-- expect: error
-- message: instruction limit
-- why: a loop around pcall that tries to catch the limit and go on:
--   the stop is not an error, so pcall never sees it.
while true do
  pcall(function() while true do end end)
end
