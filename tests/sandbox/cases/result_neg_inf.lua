-- expect: error
-- message: inf
-- why: -inf, by overflow rather than division: -1e308 * 10.
return -1e308 * 10
