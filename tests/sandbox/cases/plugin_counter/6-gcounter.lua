-- expect: ok
-- actual: 1
-- why: the plugin's globals start afresh for every KPI too.
gcounter()
