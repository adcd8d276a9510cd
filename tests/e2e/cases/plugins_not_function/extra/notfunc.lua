-- notfunc: returns a number instead of a function
return 42
