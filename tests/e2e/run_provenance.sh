#!/usr/bin/env bash
# report.json's provenance through the real binary (docs/formats.md): each
# input and formula file with the digest sha256sum gives and its rows or
# lines counted here, the command line that runs again, the times in UTC
# and in order, SOURCE_DATE_EPOCH, the settings; a merge carries it.
#   tests/e2e/run_provenance.sh KPIEVAL
bin=$(realpath "$1")
. "$(dirname "$0")/../batch/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd -P)

mkdir -p "$tmp/plan/formulas" "$tmp/extra"
cp "$src/datasets/seoul-2019/indicators.csv" "$src/datasets/seoul-2019/actuals.csv" "$tmp/plan/"
# A rules.csv, read after the two CSVs (a rule every KPI passes, so the
# run stays clean), with a quoted line break: one row.
printf 'id,check,message\nR1,1 < 2,"always\ntrue"\n' >"$tmp/plan/rules.csv"
# A dataset formula with no last newline, a --formulas one that shadows it.
printf 'return function(x)\n  return x * 2\nend' >"$tmp/plan/formulas/twice.lua"
printf -- '-- shadows\nreturn function(x) return x + x end\n' >"$tmp/extra/twice.lua"
cd "$tmp" || exit 3

# What the test expects, worked out by tools other than kpieval.
expect() { # dataset folders: lines "kind<TAB>path<TAB>sha256<TAB>count"
    local f
    for f in indicators.csv actuals.csv rules.csv; do
        printf 'inputs\t%s\t%s\t%s\n' "$f" "$(sha256sum <"plan/$f" | cut -d' ' -f1)" \
            "$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8-sig"))) - 1)' "plan/$f")"
    done
    for f in "$src"/formulas/*.lua plan/formulas/*.lua extra/*.lua; do
        printf 'formulas\t%s\t%s\t%s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)" "$(awk 'END { print NR }' "$f")"
    done
}
# report.json's provenance files in the same lines.
listed() {
    python3 - "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1], encoding="utf-8"))["provenance"]
for kind, count in (("inputs", "rows"), ("formulas", "lines")):
    for f in p[kind]:
        print("%s\t%s\t%s\t%d" % (kind, f["path"], f["sha256"], f[count]))
PY
}
expect >"$tmp/want.files"
[ "$(wc -l <"$tmp/want.files")" -ge 5 ] || fail "the expected files: $(cat "$tmp/want.files")"

before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
run run plan --out "out dir" --cap=70 --formulas extra --period 2019 --quiet
after=$(date -u +%Y-%m-%dT%H:%M:%SZ)
[ "$(rc)" = 0 ] || fail "run: exit $(rc): $(cat "$tmp/last.stderr")"
listed "out dir/report.json" >"$tmp/got.files"
diff "$tmp/want.files" "$tmp/got.files" >"$tmp/diff.out" &&
    ok "every file read, with sha256sum's digest and its rows or lines" ||
    { fail "the files differ (want, got):"; cat "$tmp/diff.out"; }

python3 - "out dir/report.json" "$bin" "$before" "$after" <<'PY' || fail "provenance: see above"
import json, re, shlex, sys
path, binary, before, after = sys.argv[1:]
p = json.load(open(path, encoding="utf-8"))["provenance"]
argv = [binary, "run", "plan", "--out", "out dir", "--cap=70", "--formulas", "extra",
        "--period", "2019", "--quiet"]
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what)
        ok = False
check(shlex.split(p["command"]) == argv, "command %r is not argv %r" % (p["command"], argv))
check("'out dir'" in p["command"], "the space is not quoted: %r" % p["command"])
utc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
check(utc.match(p["started"]) and utc.match(p["finished"]), "times %r %r" % (p["started"], p["finished"]))
check(before <= p["started"] <= p["finished"] <= after,
      "times out of order: %s <= %s <= %s <= %s" % (before, p["started"], p["finished"], after))
s = p["settings"]
check(s.get("cap") == "70" and s.get("period") == "2019", "settings %r" % s)
check(s.get("grades") == "S:100,A:90,B:80,C:70,D:0", "grades %r" % s.get("grades"))
check(re.match(r"^\d+\.\d+\.\d+", p["kpieval"] or ""), "version %r" % p["kpieval"])
sys.exit(0 if ok else 1)
PY
ok "command, times, settings and version"

# SOURCE_DATE_EPOCH fixes both times: the same run twice, the same bytes.
for i in 1 2; do
    SOURCE_DATE_EPOCH=1796538000 "$bin" run plan --out fixed --formulas extra --quiet 2>"$tmp/last.stderr" ||
        fail "run with SOURCE_DATE_EPOCH: $(cat "$tmp/last.stderr")"
    cp fixed/report.json "$tmp/fixed$i.json"
done
want=$(date -u -d @1796538000 +%Y-%m-%dT%H:%M:%SZ)
cmp -s "$tmp/fixed1.json" "$tmp/fixed2.json" && grep -q "^    \"started\": \"$want\",\$" "$tmp/fixed1.json" &&
    grep -q "^    \"finished\": \"$want\",\$" "$tmp/fixed1.json" &&
    ok "SOURCE_DATE_EPOCH: $want both times, report.json byte-identical" ||
    fail "SOURCE_DATE_EPOCH: $(grep -E '"(started|finished)"' "$tmp/fixed1.json")"
SOURCE_DATE_EPOCH=soon "$bin" run plan --out bad-epoch --quiet 2>"$tmp/last.stderr"
[ $? = 2 ] && [ ! -e bad-epoch ] && grep -q "SOURCE_DATE_EPOCH 'soon'" "$tmp/last.stderr" &&
    ok "a SOURCE_DATE_EPOCH that is no number: exit 2, nothing written" ||
    fail "SOURCE_DATE_EPOCH=soon: $(cat "$tmp/last.stderr")"

# Merge: the merge's own command, the parts' files, the first part's start.
# The parts ran at fixed times, part 2 first, all before the merge.
for i in 1 2 3; do
    SOURCE_DATE_EPOCH=$((1796538000 + (i == 2 ? 0 : i * 60))) \
        run run plan --out "p$i" --shard "$i/3" --cap=70 --formulas extra --period 2019 --quiet
    grep -q "^provenance	" "p$i/shard.txt" || fail "part $i: no provenance in shard.txt"
done
run merge merged p3 p1 p2 --quiet
[ "$(rc)" = 0 ] || fail "merge: exit $(rc): $(cat "$tmp/last.stderr")"
listed merged/report.json >"$tmp/merged.files"
cmp -s "$tmp/want.files" "$tmp/merged.files" && ok "merge: the parts' files" ||
    fail "merge: files differ: $(diff "$tmp/want.files" "$tmp/merged.files")"
python3 - merged/report.json "$bin" p1/report.json p2/report.json p3/report.json "out dir/report.json" <<'PY' &&
import json, shlex, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))["provenance"]
parts = [json.load(open(f, encoding="utf-8"))["provenance"] for f in sys.argv[3:6]]
whole = json.load(open(sys.argv[6], encoding="utf-8"))["provenance"]
assert shlex.split(m["command"]) == [sys.argv[2], "merge", "merged", "p3", "p1", "p2", "--quiet"], m["command"]
assert m["started"] == parts[1]["started"] < parts[0]["started"] < parts[2]["started"], (m["started"], [p["started"] for p in parts])
assert m["started"] <= m["finished"] and m["finished"] >= max(p["finished"] for p in parts), (m, parts)
assert m["settings"] == whole["settings"] == parts[0]["settings"], (m["settings"], whole["settings"])
PY
    ok "merge: its own command, the first part's start, the run's settings" ||
    fail "merge: the merged provenance is wrong"
same_report "out dir" merged && ok "merge: identical to the whole run but command and times" ||
    { fail "merge differs from the whole run"; head "$tmp/diff.out"; }
# A part whose plugin changed between the shards' runs is another run.
printf -- '-- changed\nreturn function(x) return x + x end\n' >"extra/twice.lua"
run run plan --out p2b --shard 2/3 --cap=70 --formulas extra --period 2019 --quiet
run merge mixed p1 p2b p3
[ "$(rc)" = 2 ] && grep -q "a part of another run" "$tmp/last.stderr" && [ ! -e mixed ] &&
    ok "merge: parts that read other formula files are refused" ||
    fail "merge of parts with other formulas: exit $(rc): $(cat "$tmp/last.stderr")"
finish
