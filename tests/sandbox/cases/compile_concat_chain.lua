-- expect: invalid
-- message: overflow
-- repeat: CAT 1000 "x .. "
-- why: '..' is right-associative, so a long chain nests in the parser.
#({{CAT}}x)
