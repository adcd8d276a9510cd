-- expect: error
-- message: instruction limit
-- why: a gsub replacement function that loops, behind pcall, then a
--   plausible result: the limit must win over the pcall.
pcall(string.gsub, 'abc', '%w', function() while true do end end)
return 75
