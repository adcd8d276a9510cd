-- counts its calls in a global of the plugin
return function() calls = (calls or 0) + 1 return calls end
