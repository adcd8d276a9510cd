-- expect: error
-- message: randomseed
-- why: removed together with math.random.
math.randomseed(1)
return 75
