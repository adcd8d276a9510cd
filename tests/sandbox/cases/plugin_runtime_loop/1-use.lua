-- expect: error
-- message: instruction limit
-- why: a plugin's code runs under the calling KPI's limits.
slowpoke(x)
