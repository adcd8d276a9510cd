-- expect: error
-- message: function
-- why: a function result; named by type, never by address.
return function() return 75 end
