-- expect: error
-- message: failed to load
-- message: stuck.lua
-- message: time limit
-- args: --time-limit 1
-- timeout: 30
-- why: a plugin whose top level hangs inside a C function: the load-time
--   check must be bounded by the wall-time limit as well, or kpieval
--   never finishes.
stuck(x)
