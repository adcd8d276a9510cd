-- expect: error
-- message: time limit
-- args: --time-limit 1
-- mixed: no (hangs in C; --in-process could never stop it)
-- why: the same backtracking in string.gsub, which retries at every
--   position of the subject.
return (string.gsub(string.rep('a', 5000), string.rep('a*', 20) .. 'b', ''))
