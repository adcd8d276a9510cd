-- expect: error
-- message: %p
-- why: a '%p' behind a NUL in the format: string.format reads the whole
--   string, so the check must too, or an address reaches the report.
return tonumber((string.format("\0%p", "k"):sub(2)))
