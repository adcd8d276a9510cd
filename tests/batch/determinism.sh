#!/usr/bin/env bash
# The reports do not depend on --jobs, on --in-process, or on the order of
# the rows in the input files; `generate` is deterministic.
#   tests/batch/determinism.sh KPIEVAL
bin=$1
. "$(dirname "$0")/lib.sh"

"$bin" generate 3000 "$tmp/a" --seed 11 || fail "generate"
"$bin" generate 3000 "$tmp/b" --seed 11 || fail "generate again"
"$bin" generate 3000 "$tmp/c" --seed 12 || fail "generate, other seed"
cmp -s "$tmp/a/indicators.csv" "$tmp/b/indicators.csv" &&
    cmp -s "$tmp/a/actuals.csv" "$tmp/b/actuals.csv" && ok "same seed, same bytes" ||
    fail "generate with the same seed gave different files"
cmp -s "$tmp/a/actuals.csv" "$tmp/c/actuals.csv" && fail "another seed gave the same actuals" ||
    ok "another seed, other data"

# The generated plan is shaped as the issue asks: N KPIs, about 2.2 actual
# rows each, some decrease KPIs, zero targets, empty baselines.
python3 - "$tmp/a" <<'PY' || fail "generated data has the wrong shape"
import csv, sys
d = sys.argv[1]
kpis = list(csv.DictReader(open(d + "/indicators.csv", encoding="utf-8")))
acts = list(csv.DictReader(open(d + "/actuals.csv", encoding="utf-8")))
assert len(kpis) == 3000, len(kpis)
per = len(acts) / len(kpis)
assert 2.0 <= per <= 2.4, per
assert sum(k["direction"] == "decrease" for k in kpis) > 100
assert sum(float(k["target"]) == 0 for k in kpis) > 5
assert sum(k["baseline"] == "" for k in kpis) > 100
teams = {k["department"] for k in kpis}
assert all(d.count("/") == 1 for d in teams)
assert 40 <= len(kpis) / len(teams) <= 60, len(kpis) / len(teams)
assert any(ord(c) >= 0xAC00 for c in kpis[0]["name"])
assert any("(" in k["formula"] for k in kpis) and any("/" in k["formula"] for k in kpis)
PY

for j in 1 2 3; do
    run run "$tmp/a" --out "$tmp/out-j$j" --jobs "$j" --quiet
    [ "$(rc)" = 1 ] || fail "--jobs $j: exit $(rc), expected 1 (the plan has missing inputs)"
done
run run "$tmp/a" --out "$tmp/out-ip" --in-process --quiet
for other in out-j2 out-j3 out-ip; do
    same_report "$tmp/out-j1" "$tmp/$other" && ok "$other same as --jobs 1" ||
        { fail "$other differs from --jobs 1"; head "$tmp/diff.out"; }
done

# Shuffle the data rows of both files (keeping the headers).
mkdir "$tmp/shuffled"
for f in indicators.csv actuals.csv; do
    { head -n 1 "$tmp/a/$f"; tail -n +2 "$tmp/a/$f" | shuf --random-source=<(yes); } \
        >"$tmp/shuffled/$f"
done
cmp -s "$tmp/a/indicators.csv" "$tmp/shuffled/indicators.csv" && fail "shuffle changed nothing"
run run "$tmp/shuffled" --out "$tmp/out-shuffled" --jobs 2 --quiet
for f in kpis.csv departments.csv departments; do
    diff -r "$tmp/out-j1/$f" "$tmp/out-shuffled/$f" >/dev/null &&
        ok "shuffled rows: $f identical" || fail "shuffled rows: $f differs"
done
# report.json cites line numbers (traceability), the dataset's paths and
# its files' digests (the rows moved, so the files differ); the warnings
# come in file order and name lines, and only the first 100 are kept, so
# only their number is compared; all else is identical.
python3 - "$tmp/out-j1/report.json" "$tmp/out-shuffled/report.json" <<'PY' ||
import json, sys
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("line", "input_lines", "dataset", "plugin_dirs", "provenance", "warnings")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
a, b = (strip(json.load(open(p, encoding="utf-8"))) for p in sys.argv[1:])
sys.exit(0 if a == b else 1)
PY
    fail "shuffled rows: report.json differs beyond line numbers"
finish
