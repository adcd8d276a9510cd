#!/usr/bin/env bash
# LibreOffice, headless, recalculates report.xlsx and gets every
# department's coverage and achievement the engine got (report.json), to
# 1e-9 relative: on datasets/seoul-2019, on a department with 1 of 3 KPIs
# scored under --unscored skip, and on a generated plan whose KPI sheets are
# split (KPIEVAL_XLSX_SHEET_ROWS) so that formulas span sheets. That it
# really recalculates: the test copy's cached formula results are replaced
# by -1 first, and the profile sets recalculation on load to "always".
#   tests/xlsx/run_libreoffice.sh KPIEVAL SOURCE_DIR      (exit 77: skipped)
set -u
bin=$1 src=$2
command -v soffice >/dev/null || { echo "soffice not found: skipped"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-office.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
mkdir -p "$tmp/profile/user"
cat >"$tmp/profile/user/registrymodifications.xcu" <<'XCU'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
XCU

# recalc OUT: OUT/stale.xlsx (cached results -1) through LibreOffice into
# OUT/stale.csv (the first sheet, the overview, values not as shown), then
# compared with OUT/report.json.
recalc() {
    python3 - "$1" <<'PY'
import re, sys, zipfile
out = sys.argv[1]
src = zipfile.ZipFile(out + "/report.xlsx")
with zipfile.ZipFile(out + "/stale.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        data = src.read(item.filename)
        if item.filename.startswith("xl/worksheets/"):
            data, n = re.subn(rb"(</f>)<v>[^<]*</v>", rb"\1<v>-1</v>", data)
        dst.writestr(item, data)
PY
    (cd "$1" && HOME="$tmp/profile" timeout 300 soffice -env:UserInstallation="file://$tmp/profile" \
        --headless --norestore \
        --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false' \
        --outdir "$1" "$1/stale.xlsx" >"$1/soffice.log" 2>&1) ||
        fail "soffice on $1: $(cat "$1/soffice.log")"
    python3 - "$1" <<'PY' || fail "$1: LibreOffice's figures differ from the engine's"
import csv, json, sys
out = sys.argv[1]
rows = list(csv.reader(open(out + "/stale.csv", encoding="utf-8")))
report = json.load(open(out + "/report.json", encoding="utf-8"))
want = report["departments"] + [dict(report["overall"], department="(overall)")]
head = rows[0]
bad = 0
assert len(rows) - 1 == len(want), (len(rows), len(want))
for row, d in zip(rows[1:], want):
    for key in ("coverage", "achievement"):
        cell = row[head.index(key)]
        if d.get(key) is None:
            ok = cell == ""
        else:
            got = float(cell)
            ok = abs(got - d[key]) <= 1e-9 * max(1, abs(d[key]))
        if not ok:
            bad += 1
            print("%s %s: LibreOffice %r, engine %r" % (d["department"], key, cell, d.get(key)))
print("%s: %d departments recalculated by LibreOffice, %d differ" % (out, len(want), bad))
sys.exit(1 if bad else 0)
PY
}

"$bin" run "$src/datasets/seoul-2019" --out "$tmp/seoul" --quiet || fail "seoul-2019: exit $?"
recalc "$tmp/seoul"

mkdir -p "$tmp/small"
printf 'id,name,department,target,formula,weight\nP1,a,P,100,x,1\nP2,b,P,100,x,1\nP3,c,P,100,x,1\nQ1,d,Q,50,x,2\n' \
    >"$tmp/small/indicators.csv"
printf 'indicator,input,value\nP1,x,80\nQ1,x,40\n' >"$tmp/small/actuals.csv"
"$bin" run "$tmp/small" --out "$tmp/skip" --unscored skip --quiet 2>/dev/null
recalc "$tmp/skip"
"$bin" run "$tmp/small" --out "$tmp/zero" --quiet 2>/dev/null
recalc "$tmp/zero"

"$bin" generate 3000 "$tmp/gen" --seed 11 >/dev/null
KPIEVAL_XLSX_SHEET_ROWS=400 "$bin" run "$tmp/gen" --out "$tmp/gen-out" --quiet 2>/dev/null
recalc "$tmp/gen-out"

[ "$failures" = 0 ] && echo "ok" || { echo "$failures failure(s)"; exit 1; }
