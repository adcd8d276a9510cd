-- expect: error
-- message: not available
-- why: coroutines would let a formula yield from under the limit machinery (which yields to stop it).
return coroutine.wrap(function() coroutine.yield(75) end)()
