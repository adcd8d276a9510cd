-- expect: ok
-- actual: 300000
-- capped: 120.00
-- repeat: TERMS 100000 "x + "
-- why: 100,000 terms, 400 kB of formula, but flat: it compiles and runs
--   within the limits. Size alone must not make a KPI fail.
{{TERMS}}0
