-- expect: error
-- message: failed to load
-- message: hog.lua
-- message: memory limit
-- why: the memory limit holds while a plugin is loaded.
hog(x)
