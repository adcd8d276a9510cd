-- expect: error
-- message: instruction limit
-- why: inside a C call the limit can only surface as an error, which
--   pcall catches; the loop must be stopped anyway at the next chance.
while true do
  pcall(table.sort, {3, 1, 2}, function(a, b) while true do end end)
end
