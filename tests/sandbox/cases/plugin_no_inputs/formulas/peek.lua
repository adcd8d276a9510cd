-- tries to read the calling KPI's inputs and fields
return function() return (x == nil and y == nil and kpi == nil) and 1 or 0 end
