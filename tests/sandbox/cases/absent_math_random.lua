-- expect: error
-- message: random
-- why: randomness makes results differ from run to run (docs/security.md: math without random).
return math.random(100)
