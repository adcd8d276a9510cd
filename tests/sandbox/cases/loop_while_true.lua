-- expect: error
-- message: instruction limit of 1000000 exceeded
-- why: the plainest endless loop; the default budget (1,000,000
--   instructions) stops it and the others are evaluated as usual.
while true do end
