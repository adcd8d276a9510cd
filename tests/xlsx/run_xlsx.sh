#!/usr/bin/env bash
# report.xlsx read back with the standard library (check_xlsx.py): the
# shipped dataset in English and Korean; a department with 1 of 3 KPIs
# scored under both unscored policies, with texts a spreadsheet would run;
# KPI sheets split at a small row limit so that formulas span sheets; a
# sharded run merged into the same bytes; the size policy; the provenance.
#   tests/xlsx/run_xlsx.sh KPIEVAL SOURCE_DIR
set -u
bin=$1 src=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-xlsx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { python3 "$here/check_xlsx.py" "$@" || fail "check_xlsx.py $*"; }
export SOURCE_DATE_EPOCH=1700000000

"$bin" run "$src/datasets/seoul-2019" --out "$tmp/seoul" --quiet || fail "seoul-2019: exit $?"
check "$tmp/seoul" --unscored zero
"$bin" run "$src/datasets/seoul-2019" --out "$tmp/seoul-ko" --lang ko --quiet || fail "seoul-2019 ko: exit $?"
check "$tmp/seoul-ko" --lang ko
unzip -p "$tmp/seoul-ko/report.xlsx" docProps/core.xml | grep -q "<dc:title>성과지표 평가 보고서</dc:title>.*<dc:creator>kpieval</dc:creator>.*2023-11-14T22:13:20Z" ||
    fail "document properties: $(unzip -p "$tmp/seoul-ko/report.xlsx" docProps/core.xml)"

# Department P: 3 KPIs of weight 1, one scored at 80 %, two missing:
# coverage 1/3; achievement 80 / 3 counting the others as 0, 80 leaving
# them out. Q's KPI has a name Excel would run as a formula.
mkdir -p "$tmp/small"
cat >"$tmp/small/indicators.csv" <<'CSV'
id,name,department,target,formula,weight,owner
P1,scored,P,100,x,1,@SUM(A1)
P2,missing one,P,100,x,1,-5
P3,missing two,P,100,x,1,-
Q1,"=HYPERLINK(""http://x"",""y"")",+Q/=R,50,x,2,kim
CSV
cat >"$tmp/small/actuals.csv" <<'CSV'
indicator,input,value
P1,x,80
Q1,x,50
CSV
guards=(--guarded '=HYPERLINK("http://x","y")' --guarded '@SUM(A1)' --guarded '+Q/=R'
        --plain '-5' --plain '-' --plain 'kim')
"$bin" run "$tmp/small" --out "$tmp/zero" --quiet 2>/dev/null
[ $? = 1 ] || fail "small: exit not 1"
check "$tmp/zero" --unscored zero "${guards[@]}" --expect "P=26.666666666666668" --expect "+Q/=R=100"
"$bin" run "$tmp/small" --out "$tmp/skip" --unscored skip --quiet 2>/dev/null
check "$tmp/skip" --unscored skip "${guards[@]}" --expect "P=80"
grep -q '^P,3,1,2,0,0,33.33,26.67,' "$tmp/zero/departments.csv" ||
    fail "P under zero: $(grep '^P,' "$tmp/zero/departments.csv")"

# 230 KPIs in sheets of 7 rows: every department's formula spans sheets.
"$bin" generate 230 "$tmp/gen" --seed 3 >/dev/null
KPIEVAL_XLSX_SHEET_ROWS=7 "$bin" run "$tmp/gen" --out "$tmp/split" --quiet 2>/dev/null
check "$tmp/split"
python3 - "$tmp/split/report.xlsx" <<'PY' || fail "split: no formula spans two sheets"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.read("xl/workbook.xml").decode()
assert "all KPIs (33)" in names, names[:2000]
assert "SUMPRODUCT('all KPIs (2)'" in z.read("xl/worksheets/sheet1.xml").decode()
PY

# Shards merged: the same report.xlsx as the whole run, byte for byte.
"$bin" run "$tmp/gen" --out "$tmp/whole" --quiet 2>/dev/null
for i in 1 2 3; do "$bin" run "$tmp/gen" --out "$tmp/p$i" --shard "$i/3" --quiet 2>/dev/null; done
"$bin" merge "$tmp/merged" "$tmp/p1" "$tmp/p2" "$tmp/p3" --quiet 2>/dev/null
# Byte for byte but for the provenance's command and times (same_report.sh).
diff <(python3 "$here/xlsx_dump.py" "$tmp/whole/report.xlsx") \
    <(python3 "$here/xlsx_dump.py" "$tmp/merged/report.xlsx") >"$tmp/diff" ||
    fail "merged report.xlsx differs from the whole run's: $(head -c 600 "$tmp/diff")"
check "$tmp/merged"

# Above 20,000 KPIs report.xlsx is written only when named.
"$bin" generate 20001 "$tmp/big" >/dev/null
"$bin" run "$tmp/big" --out "$tmp/big-out" --reports departments.csv,report.xlsx --quiet 2>/dev/null
[ -f "$tmp/big-out/report.xlsx" ] || fail "report.xlsx named, yet not written above 20,000 KPIs"
"$bin" run "$tmp/big" --out "$tmp/big-default" --quiet 2>/dev/null
[ ! -e "$tmp/big-default/report.xlsx" ] && [ -f "$tmp/big-default/kpis.csv" ] ||
    fail "report.xlsx written by default above 20,000 KPIs"

unzip -p "$tmp/seoul-ko/report.xlsx" docProps/custom.xml | grep -q 'name="command"><vt:lpwstr>[^<]*kpieval run ' ||
    fail "no command among the custom properties"
python3 - "$tmp/seoul/report.xlsx" "$tmp/seoul/report.json" <<'PY' || fail "provenance sheet"
import json, re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = re.findall(r'<sheet name="([^"]*)"', z.read("xl/workbook.xml").decode())
assert names[-1] == "provenance", names
sheet = z.read("xl/worksheets/sheet%d.xml" % len(names)).decode()
pv = json.load(open(sys.argv[2], encoding="utf-8"))["provenance"]
for f in pv["inputs"]:
    assert f["sha256"] in sheet and f["path"] in sheet, f
assert pv["started"] in sheet
PY
[ "$failures" = 0 ] && echo "ok" || { echo "$failures failure(s)"; exit 1; }
