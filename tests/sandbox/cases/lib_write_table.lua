-- expect: error
-- message: read-only
-- why: removing table.concat under the next KPI's feet.
table.concat = nil
return 75
