-- expect: error
-- message: nan
-- why: 0/0; reports never show NaN in a number column.
return 0/0
