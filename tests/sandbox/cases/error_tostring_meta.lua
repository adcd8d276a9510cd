-- expect: error
-- why: a table error object with __tostring; whether its text is used is
--   open, but the KPI is an error with a message and no address.
error(setmetatable({}, {__tostring = function() return 'custom text' end}))
