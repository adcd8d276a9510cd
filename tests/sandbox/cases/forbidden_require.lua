-- expect: error
-- message: not available
-- why: require would load modules, including C libraries, from disk.
return require('os').time()
