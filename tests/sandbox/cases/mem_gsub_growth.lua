-- expect: error
-- message: memory limit
-- why: gsub builds its result in a C buffer; 1 MiB with every byte
--   replaced by 48 bytes needs 48 MiB. Behind pcall in a loop.
local s = string.rep('x', 2^20)
while true do
  pcall(string.gsub, s, '.', string.rep('%0', 48))
end
