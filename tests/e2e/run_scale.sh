#!/usr/bin/env bash
# Input shapes that cost quadratic time in a loader that compares pairwise,
# generated on the fly (red-team issue 9, finding 10). Each runs under
# `timeout 60` at a size where a quadratic loader takes minutes and a
# linear one a few seconds; the test measures no time itself.
#
#   tests/e2e/run_scale.sh KPIEVAL_BINARY
set -u
bin=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0
check() { # name, expected exit status, expected stdout/stderr substrings...
    local name=$1 want=$2
    shift 2
    timeout 60 "$bin" run "$tmp/$name" --out "$tmp/$name.out" --reports departments.csv \
        >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
    local rc=$?
    if [ $rc -eq 124 ]; then
        echo "FAIL $name: not done in 60 s"
        failures=$((failures + 1))
        return
    fi
    [ $rc -eq "$want" ] || { echo "FAIL $name: exit $rc, expected $want"; head -c 2000 "$tmp/$name.stderr"; failures=$((failures + 1)); return; }
    for s in "$@"; do
        grep -qF -- "$s" "$tmp/$name.out/departments.csv" "$tmp/$name.stderr" ||
            { echo "FAIL $name: no '$s' in departments.csv or stderr"; failures=$((failures + 1)); return; }
    done
    passed=$((passed + 1))
}

# One KPI with 600,000 inputs: a pairwise duplicate check makes 1.8e11
# comparisons (minutes); the formula uses one of them.
mkdir -p "$tmp/many_inputs"
python3 - "$tmp/many_inputs" <<'PY'
import sys
d = sys.argv[1]
n = 600000
with open(d + "/indicators.csv", "w") as f:
    f.write("id,name,department,target,formula\nK1,many,A,10,x7 + x599999\n")
with open(d + "/actuals.csv", "w") as f:
    f.write("indicator,input,value\n")
    f.write("".join("K1,x%d,%d\n" % (i, i % 10) for i in range(n)))
PY
# x7 = 7, x599999 = 9: 16 / 10 x 100 = 160, capped 120 -> S.
check many_inputs 0 "A,1,1,0,0,0,100.00,120.00,S,"

# The same with a duplicate at the very end: found, both lines cited.
mkdir -p "$tmp/many_inputs_duplicate"
cp "$tmp/many_inputs/indicators.csv" "$tmp/many_inputs_duplicate/"
{ cat "$tmp/many_inputs/actuals.csv"; echo "K1,x3,5"; } >"$tmp/many_inputs_duplicate/actuals.csv"
# Header line 1, x3 at line 5, the duplicate at line 600002.
check many_inputs_duplicate 1 "A,1,0,0,0,1,0.00,0.00,D," \
    "actuals.csv:600002: duplicate input 'x3' for 'K1' (first at line 5)"

# A long formula and many inputs: finding where each input first occurs
# by searching the formula text once per input costs inputs x length.
# The formula is one 800 kB identifier that contains every input name
# many times, never as a whole word; 2,000 inputs x 400,000 partial
# matches each. (The identifier is not an input: the KPI is missing.)
mkdir -p "$tmp/long_formula"
python3 - "$tmp/long_formula" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/indicators.csv", "w") as f:
    f.write("id,name,department,target,formula\nK1,long,A,10," + "_x" * 400000 + "\n")
with open(d + "/actuals.csv", "w") as f:
    f.write("indicator,input,value\n")
    f.write("".join("K1,%s,1\n" % "_".join(["x"] * k) for k in range(1, 2001)))
PY
check long_formula 1 "A,1,0,1,0,0,0.00,0.00,D,"

if [ $failures -eq 0 ]; then
    echo "scale: $passed passed, 0 failed"
else
    echo "scale: $failures failed"
    exit 1
fi
