-- expect: error
-- message: a,b"c
-- why: commas, quotes, CR and LF in a message must not break kpis.csv
--   (the runner parses every row and counts its fields).
error('a,b"c\nd\re,"f"\r\n')
