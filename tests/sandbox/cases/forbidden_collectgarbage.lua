-- expect: error
-- message: not available
-- why: stopping or driving the collector changes memory behaviour for the KPIs after this one.
collectgarbage('stop')
return 75
