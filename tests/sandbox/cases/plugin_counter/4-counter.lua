-- expect: ok
-- actual: 1
-- why: plugins are re-instantiated per KPI: the upvalue counter starts
--   afresh, so every KPI's first call returns 1.
counter()
