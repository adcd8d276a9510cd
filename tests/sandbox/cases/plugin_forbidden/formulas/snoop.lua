-- reads the environment when called
return function() return #os.getenv('HOME') end
