-- expect: stop
-- stderr: indicators.csv:4
-- repeat: TERMS 300000 "x + "
-- why: a 1.2 MB formula is over the 1 MiB field limit: the run stops
--   (exit 2), naming the file and line, and writes nothing.
{{TERMS}}0
