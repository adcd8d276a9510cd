-- expect: error
-- message: string
-- why: the message quotes the returned string, whose bytes are not UTF-8;
--   kpis.csv must stay valid UTF-8.
return 'bad \255\254 bytes'
