#!/usr/bin/env bash
# The shipped Seoul 2019 dataset: every KPI ok (exit 0), all reports
# written, and a department table equal to an independent calculation
# (tests/e2e/seoul-2019/independent.py).
set -eo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
${KPIEVAL_TEST_WRAPPER:-} "$bin" run "$src/datasets/seoul-2019" --out "$tmp/out" 2>&1 >"$tmp/stdout" |
    cat >"$tmp/stderr" || rc=$?
[ "$rc" = 0 ] || { echo "kpieval exited $rc"; cat "$tmp/stderr"; exit 1; }
if [ -n "${KPIEVAL_TEST_WRAPPER:-}" ] && grep -q '^==[0-9]*== ' "$tmp/stderr"; then
    echo "${KPIEVAL_TEST_WRAPPER%% *} reported errors:"; cat "$tmp/stderr"; exit 1
fi
for f in kpis.csv departments.csv report.json departments; do
    [ -e "$tmp/out/$f" ] || { echo "missing $f"; exit 1; }
done
[ "$(ls "$tmp/out/departments" | wc -l)" -eq "$(($(wc -l <"$tmp/out/departments.csv") - 1))" ] ||
    { echo "one departments/ file per department expected"; exit 1; }
[ "$(($(wc -l <"$tmp/out/kpis.csv") - 1))" -eq 16 ] || { echo "expected 16 KPIs"; exit 1; }
python3 "$src/tests/e2e/seoul-2019/independent.py" "$src/datasets/seoul-2019" >"$tmp/expected.csv"
diff -u "$tmp/expected.csv" "$tmp/out/departments.csv"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["counts"]["ok"]==16, r["counts"]' "$tmp/out/report.json"
grep -q '(all departments)' "$tmp/stdout" || { echo "no summary printed"; exit 1; }
echo "seoul-2019: 1 passed, 0 failed"
