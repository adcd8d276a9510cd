-- expect: invalid
-- message: overflow
-- repeat: NOTS 10000 "not "
-- why: 10,000 unary operators, each one parser recursion.
{{NOTS}}x
