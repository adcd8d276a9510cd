-- expect: stop
-- stderr: hog.lua
-- stderr: memory limit
-- why: the memory limit holds while a plugin is loaded.
hog(x)
