-- expect: invalid
-- message: too many local variables
-- repeat: LOCALS 250 "local a = 1 "
-- why: more locals than Lua allows in one function (200).
{{LOCALS}} return a
