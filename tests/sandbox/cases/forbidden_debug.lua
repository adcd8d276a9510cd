-- expect: error
-- message: not available
-- why: debug.sethook would switch off the instruction limit; debug.getregistry reaches everything.
debug.sethook()
while true do end
