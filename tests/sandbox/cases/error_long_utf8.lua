-- expect: error
-- message: 가가가
-- why: a long message of 3-byte characters: cut at 512 bytes, where a
--   character may be cut in two; the column must stay valid UTF-8.
error(string.rep('가', 1000))
