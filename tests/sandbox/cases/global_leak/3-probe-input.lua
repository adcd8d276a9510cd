-- expect: ok
-- actual: 1
-- why: no trace of either global, looked up without making the KPI missing.
return (rawget(_ENV, 'leak') == nil and rawget(_ENV, 'leak2') == nil) and input('leak', 1) or 0
