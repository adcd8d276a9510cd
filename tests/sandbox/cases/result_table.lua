-- expect: error
-- message: table
-- why: a table result; the message names the type, never an address.
return {75}
