#!/usr/bin/env bash
# Bad inputs too big to keep in the repository, generated on the fly:
# a 10 MB field and a row of 5000 columns each stop the run (exit 2)
# with a message naming the file and line, and write nothing.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # name, expected stderr substring...
    local name=$1; shift
    "$bin" run "$tmp/$name" --out "$tmp/$name.out" >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
    local rc=$?
    [ $rc -eq 2 ] || { echo "FAIL $name: exit $rc, expected 2"; failures=$((failures + 1)); }
    [ ! -e "$tmp/$name.out" ] || { echo "FAIL $name: output written"; failures=$((failures + 1)); }
    for want in "$@"; do
        grep -qF -- "$want" "$tmp/$name.stderr" ||
            { echo "FAIL $name: stderr lacks '$want'"; cat "$tmp/$name.stderr"; failures=$((failures + 1)); }
    done
}

mkdir -p "$tmp/huge_field"
python3 - "$tmp/huge_field" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/indicators.csv", "w") as f:
    f.write("id,name,department,target,formula\n")
    f.write("K1,one,A,10,x\n")
    f.write("K2," + "가" * (10 * 1024 * 1024 // 3) + ",A,10,x\n")
with open(d + "/actuals.csv", "w") as f:
    f.write("indicator,input,value\nK1,x,1\n")
PY
check huge_field "indicators.csv:3:" "field 2" "bytes long"

mkdir -p "$tmp/many_columns"
python3 - "$tmp/many_columns" <<'PY'
import sys
d = sys.argv[1]
cols = ["id", "name", "department", "target", "formula"] + ["c%d" % i for i in range(5000)]
with open(d + "/indicators.csv", "w") as f:
    f.write(",".join(cols) + "\n")
    f.write(",".join(["K1", "one", "A", "10", "x"] + ["v"] * 5000) + "\n")
with open(d + "/actuals.csv", "w") as f:
    f.write("indicator,input,value\nK1,x,1\n")
PY
check many_columns "indicators.csv:1:" "more than 1024 fields"

if [ $failures -eq 0 ]; then echo "generated: 2 passed, 0 failed"; else echo "generated: $failures failed"; exit 1; fi
