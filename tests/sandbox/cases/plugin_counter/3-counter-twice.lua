-- expect: ok
-- actual: 3
-- why: within one KPI it is one instance: the calls return 1 and 2.
counter() + counter()
