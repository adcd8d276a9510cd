-- expect: invalid
-- message: overflow
-- repeat: OPEN 10000 (
-- repeat: CLOSE 10000 )
-- why: 10,000 nested parentheses; the parser's C-stack guard rejects
--   them, so the formula does not compile: invalid.
{{OPEN}}x{{CLOSE}}
