-- expect: ok
-- actual: 3
-- why: the plugin's tampering happens under pcall; it returns its argument.
tamper(x)
