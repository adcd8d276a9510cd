-- returns a number, not a function
return 42
