-- expect: missing
-- why: input() of a 100 kB name: missing, with a bounded message.
return input(string.rep('n', 100000))
