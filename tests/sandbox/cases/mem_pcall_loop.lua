-- expect: error
-- message: memory limit
-- why: each round allocates past the cap inside pcall, which catches the
--   out-of-memory error; the loop must be stopped by the memory limit,
--   not go on until the instruction budget runs out.
while true do
  pcall(function() return string.rep('x', 2^24) .. string.rep('y', 2^24) end)
end
