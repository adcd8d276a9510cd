-- expect: error
-- message: %p
-- why: string.format('%p') prints an address.
return #string.format('%p', {})
