#!/usr/bin/env bash
# run --shard I/N and merge give files byte-identical to a whole run, for
# N = 1, 2, 3 and 7; merge refuses incomplete or mixed sets of parts.
#   tests/batch/shards.sh KPIEVAL
bin=$1
. "$(dirname "$0")/lib.sh"

# 31 headquarters (about 16 teams of 50 KPIs each) so every shard has some;
# above 20,000 KPIs, as a nightly plan is (report.xlsx on request only).
"$bin" generate 24000 "$tmp/data" --seed 5 || fail "generate"
run run "$tmp/data" --out "$tmp/whole" --quiet
[ "$(rc)" = 1 ] || fail "whole run: exit $(rc)"
for n in 1 2 3 7; do
    parts=()
    for i in $(seq 1 "$n"); do
        run run "$tmp/data" --out "$tmp/n$n-p$i" --shard "$i/$n" --quiet
        case $(rc) in 0|1) ;; *) fail "shard $i/$n: exit $(rc)"; cat "$tmp/last.stderr";; esac
        [ -f "$tmp/n$n-p$i/shard.txt" ] || fail "shard $i/$n: no shard.txt"
        parts+=("$tmp/n$n-p$i")
    done
    # Any order of parts on the command line.
    reversed=()
    for ((k = ${#parts[@]} - 1; k >= 0; k--)); do reversed+=("${parts[$k]}"); done
    run merge "$tmp/n$n-merged" "${reversed[@]}"
    [ "$(rc)" = 1 ] || { fail "merge of $n: exit $(rc)"; cat "$tmp/last.stderr"; }
    same_report "$tmp/whole" "$tmp/n$n-merged" && ok "N=$n: merged report identical to the whole run" ||
        { fail "N=$n: merged report differs"; head -20 "$tmp/diff.out"; }
done

# Failed warning rules are warnings of the KPIs' own shards; the merge
# puts them back in report order, kept and counted as in a whole run (a
# few hundred of them: more than the 100 kept).
cp -r "$tmp/data" "$tmp/rules"
printf 'id,check,severity\nR1,satisfied <= surveyed,warning\nR2,attendees > 1e9,warning\n' \
    >"$tmp/rules/rules.csv"
run run "$tmp/rules" --out "$tmp/rules-whole" --quiet
[ "$(rc)" = 1 ] || fail "rules whole run: exit $(rc)"
python3 - "$tmp/whole/report.json" "$tmp/rules-whole/report.json" <<'PY' || fail "rules: no failed rule counted"
import json, sys
before, after = (json.load(open(p, encoding="utf-8"))["warnings_total"] for p in sys.argv[1:])
assert after > before + 100, (before, after)
PY
for i in 1 2 3; do
    run run "$tmp/rules" --out "$tmp/rules-p$i" --shard "$i/3" --quiet
done
run merge "$tmp/rules-merged" "$tmp/rules-p3" "$tmp/rules-p1" "$tmp/rules-p2"
same_report "$tmp/rules-whole" "$tmp/rules-merged" &&
    ok "rules: the merged warnings are the whole run's" ||
    { fail "rules: merged report differs"; head -20 "$tmp/diff.out"; }

# The same on a small plan whose failed rules are all kept: three
# top-level departments, each its own shard of 3, warnings in two of them.
mkdir -p "$tmp/small"
printf '%s\n' 'id,name,department,target,formula' 'E1,a,정책과,50,employed / eligible * 100' \
    'E2,b,교육과,50,employed / eligible * 100' 'E3,c,정책과,50,done / enrolled * 100' \
    'E4,d,교육과,100,people' 'E5,e,기획과,100,people' 'E6,f,교육과,50,done / enrolled * 100' \
    >"$tmp/small/indicators.csv"
printf '%s\n' 'indicator,input,value' E1,employed,30 E1,eligible,60 E2,employed,12 E2,eligible,10 \
    E3,done,4 E3,enrolled,10 E4,people,80 E5,people,70 E6,done,3 E6,enrolled,10 \
    >"$tmp/small/actuals.csv"
printf '%s\n' 'id,check,severity' 'R1,employed <= eligible,error' 'R2,done >= 5,warning' \
    'R3,people > 100,warning' >"$tmp/small/rules.csv"
run run "$tmp/small" --out "$tmp/small-whole" --quiet
for i in 1 2 3; do
    run run "$tmp/small" --out "$tmp/small-p$i" --shard "$i/3" --quiet
done
run merge "$tmp/small-merged" "$tmp/small-p1" "$tmp/small-p2" "$tmp/small-p3"
python3 - "$tmp/small-whole/report.json" <<'PY' || fail "small rules: the warnings"
import json, sys
w = json.load(open(sys.argv[1], encoding="utf-8"))["warnings"]
assert [x.split(" failed for ")[1].split(":")[0] for x in w] == ["E4", "E6", "E5", "E3"], w
PY
same_report "$tmp/small-whole" "$tmp/small-merged" &&
    ok "small rules: the merged warnings are the whole run's, in report order" ||
    { fail "small rules: merged report differs"; head -20 "$tmp/diff.out"; }

# Every top-level department is in exactly one shard of 3.
python3 - "$tmp" <<'PY' || fail "shards do not partition the top-level departments"
import csv, sys
t = sys.argv[1]
def tops(p):
    return {r["department"] for r in csv.DictReader(open(p, encoding="utf-8")) if "/" not in r["department"]}
parts = [tops("%s/n3-p%d/departments.csv" % (t, i)) for i in (1, 2, 3)]
whole = tops(t + "/whole/departments.csv")
assert all(parts), [len(p) for p in parts]
assert sum(len(p) for p in parts) == len(whole) and set().union(*parts) == whole
PY

# The report's style and policy travel in the parts' models: Korean words,
# byte order marks and the skip policy come out of the merge as they do out
# of a whole run.
# (A smaller plan: 8 headquarters.)
"$bin" generate 6000 "$tmp/small" --seed 5 || fail "generate"
style="--lang ko --csv-bom --unscored skip"
run run "$tmp/small" --out "$tmp/ko-whole" $style --quiet
for i in 1 2; do
    run run "$tmp/small" --out "$tmp/ko-p$i" --shard "$i/2" $style --quiet
done
run merge "$tmp/ko-merged" "$tmp/ko-p2" "$tmp/ko-p1"
if same_report "$tmp/ko-whole" "$tmp/ko-merged" &&
    head -c 3 "$tmp/ko-merged/kpis.csv" | cmp -s - <(printf '\xef\xbb\xbf') &&
    grep -q '"unscored": "skip", "lang": "ko"' "$tmp/ko-merged/report.json"; then
    ok "--lang ko --csv-bom --unscored skip: merged report identical to the whole run"
else
    fail "--lang ko --csv-bom --unscored skip: merged report differs"; head -20 "$tmp/diff.out"
fi
# Parts of runs with other policies are not parts of one run.
run run "$tmp/small" --out "$tmp/zero-p2" --shard 2/2 --lang ko --csv-bom --quiet
run merge "$tmp/bad-policy" "$tmp/ko-p1" "$tmp/zero-p2"
[ "$(rc)" = 2 ] && [ ! -e "$tmp/bad-policy" ] && ok "parts of two policies refused" ||
    fail "parts of two policies: exit $(rc)"

# --reports: only the files asked for (and the marker), in whole runs,
# shards and merges alike; a second run may replace such a folder.
run run "$tmp/data" --out "$tmp/some" --reports kpis.csv,departments.csv --quiet
[ "$(cd "$tmp/some" && ls -A | tr '\n' ' ')" = ".kpieval-report departments.csv kpis.csv " ] &&
    ok "--reports writes only what it names" || fail "--reports wrote: $(ls -A "$tmp/some")"
cmp -s "$tmp/some/kpis.csv" "$tmp/whole/kpis.csv" || fail "--reports changed kpis.csv"
run run "$tmp/data" --out "$tmp/some" --reports kpis.csv,departments.csv --quiet
[ "$(rc)" = 1 ] && ok "a --reports folder can be replaced" || fail "rerun into a --reports folder: exit $(rc)"
for i in 1 2 3; do
    run run "$tmp/data" --out "$tmp/some-p$i" --shard "$i/3" --reports kpis.csv,departments.csv,departments/ --quiet
done
run merge "$tmp/some-merged" "$tmp/some-p1" "$tmp/some-p2" "$tmp/some-p3"
[ "$(rc)" = 1 ] && [ ! -e "$tmp/some-merged/report.json" ] &&
    diff -r "$tmp/whole/departments" "$tmp/some-merged/departments" >/dev/null &&
    cmp -s "$tmp/whole/kpis.csv" "$tmp/some-merged/kpis.csv" &&
    cmp -s "$tmp/whole/departments.csv" "$tmp/some-merged/departments.csv" &&
    ok "merge of --reports parts" || fail "merge of --reports parts: exit $(rc)"
run merge "$tmp/mixed" "$tmp/some-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 2 ] && ok "parts with different --reports refused" || fail "mixed --reports: exit $(rc)"
run run "$tmp/data" --out "$tmp/x" --reports kpis.csv,summary.pdf
[ "$(rc)" = 2 ] && grep -q "unknown report 'summary.pdf'" "$tmp/last.stderr" &&
    ok "unknown --reports name refused" || fail "--reports summary.pdf: exit $(rc)"

run merge "$tmp/bad1" "$tmp/n3-p1" "$tmp/n3-p2"
[ "$(rc)" = 2 ] && grep -q "shard 3 of 3 is missing" "$tmp/last.stderr" && ok "missing shard refused" ||
    fail "missing shard: exit $(rc), $(cat "$tmp/last.stderr")"
[ ! -e "$tmp/bad1" ] || fail "refused merge wrote its output"
run merge "$tmp/bad2" "$tmp/n3-p1" "$tmp/n3-p1" "$tmp/n3-p2"
[ "$(rc)" = 2 ] && grep -q "given twice" "$tmp/last.stderr" && ok "repeated shard refused" ||
    fail "repeated shard: exit $(rc)"
run merge "$tmp/bad3" "$tmp/n3-p1" "$tmp/n2-p2" "$tmp/n3-p3"
[ "$(rc)" = 2 ] && ok "parts of different runs refused" || fail "mixed runs: exit $(rc)"
run merge "$tmp/bad4" "$tmp/whole"
[ "$(rc)" = 2 ] && grep -q "not a partial report" "$tmp/last.stderr" && ok "whole report refused as a part" ||
    fail "whole report as a part: exit $(rc)"
# Parts of another run (other data for one shard) are refused, whatever
# their order.
"$bin" generate 48000 "$tmp/data2" --seed 6 >/dev/null
run run "$tmp/data2" --out "$tmp/other-p2" --shard 2/3 --quiet
run merge "$tmp/bad5" "$tmp/n3-p1" "$tmp/other-p2" "$tmp/n3-p3"
[ "$(rc)" = 2 ] && grep -q "another run" "$tmp/last.stderr" && ok "a part of another dataset refused" ||
    fail "part of another dataset: exit $(rc): $(cat "$tmp/last.stderr")"
run merge "$tmp/bad6" "$tmp/other-p2" "$tmp/n3-p1" "$tmp/n3-p3"
[ "$(rc)" = 2 ] || fail "part of another dataset, given first: exit $(rc)"
# merge reads each part's model (shard.txt) and nothing else: a part whose
# other files were changed or cut still merges into the whole run's report.
cp -r "$tmp/n3-p1" "$tmp/cut-p1"
truncate -s -10 "$tmp/cut-p1/report.json"
rm -r "$tmp/cut-p1/departments"
run merge "$tmp/from-model" "$tmp/cut-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 1 ] && same_report "$tmp/whole" "$tmp/from-model" &&
    ok "merge rebuilds the report from the models alone" ||
    fail "merge with cut report files: exit $(rc): $(cat "$tmp/last.stderr")"
# A model changed after its run is refused: cut short, or a byte changed.
cp "$tmp/n3-p1/shard.txt" "$tmp/cut-p1/shard.txt"
truncate -s -10 "$tmp/cut-p1/shard.txt"
run merge "$tmp/bad7" "$tmp/cut-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 2 ] && grep -q "changed since its run wrote it" "$tmp/last.stderr" &&
    ok "a truncated model refused" || fail "truncated model: exit $(rc): $(cat "$tmp/last.stderr")"
[ ! -e "$tmp/bad7" ] || fail "a refused merge wrote its output"
sed '0,/^kpi\t/s/^kpi\t\([0-9]*\)\t/kpi\t\1\t9/' "$tmp/n3-p1/shard.txt" >"$tmp/cut-p1/shard.txt"
cmp -s "$tmp/n3-p1/shard.txt" "$tmp/cut-p1/shard.txt" && fail "the edit of the model did nothing"
run merge "$tmp/bad7" "$tmp/cut-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 2 ] && grep -q "changed since its run wrote it (checksum)" "$tmp/last.stderr" &&
    ok "an edited model refused" || fail "edited model: exit $(rc): $(cat "$tmp/last.stderr")"
# A model is input: a forged achievement (infinite, or beyond any a run
# makes, which could overflow the overall sum) is refused even with its
# checksum made right (FNV-1a 64 of every byte before the end line).
forge() { # forge PART_IN PART_OUT VALUE: the first KPI's achievement = VALUE
    python3 - "$1" "$2" "$3" <<'PY'
import sys
src, dst, value = sys.argv[1:]
lines = open(src, "rb").read().split(b"\n")[:-1]
for i, line in enumerate(lines):
    if line.startswith(b"kpi\t"):
        f = line.split(b"\t")
        f[21] = value.encode()
        lines[i] = b"\t".join(f)
        break
body = b"".join(l + b"\n" for l in lines[:-1])
h = 0xcbf29ce484222325
for byte in body:
    h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
open(dst, "wb").write(body + b"end\t%016x\n" % h)
PY
}
for forged in -inf 1e308 2e9; do
    rm -rf "$tmp/forged-p1"
    cp -r "$tmp/n3-p1" "$tmp/forged-p1"
    forge "$tmp/n3-p1/shard.txt" "$tmp/forged-p1/shard.txt" "$forged"
    run merge "$tmp/bad8" "$tmp/forged-p1" "$tmp/n3-p2" "$tmp/n3-p3"
    [ "$(rc)" = 2 ] && grep -q "not a kpieval shard model" "$tmp/last.stderr" && [ ! -e "$tmp/bad8" ] &&
        ok "forged achievement $forged refused" ||
        fail "forged achievement $forged: exit $(rc): $(cat "$tmp/last.stderr")"
done
# The forger's checksum is right: an in-range value passes the checks.
forge "$tmp/n3-p1/shard.txt" "$tmp/forged-p1/shard.txt" 50
run merge "$tmp/forged-ok" "$tmp/forged-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 1 ] && ok "an in-range value with a right checksum merges" ||
    fail "in-range forged value: exit $(rc): $(cat "$tmp/last.stderr")"
# OUT with a trailing slash is OUT: its lock and staging go beside it.
run merge "$tmp/slash/" "$tmp/n3-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 1 ] && same_report "$tmp/whole" "$tmp/slash" && [ ! -e "$tmp/slash/.lock" ] &&
    grep -q "merged 3 partial reports" "$tmp/last.stdout" && grep -q "achievement [0-9.]* [A-Z]" "$tmp/last.stdout" &&
    ok "merge OUT/ works beside OUT and prints the overall grade" ||
    fail "merge OUT/: exit $(rc): $(cat "$tmp/last.stderr") $(cat "$tmp/last.stdout")"

run run "$tmp/data" --out "$tmp/x" --shard 4/3
[ "$(rc)" = 2 ] && ok "--shard 4/3 refused" || fail "--shard 4/3: exit $(rc)"
run run "$tmp/data" --out "$tmp/x" --shard 1/0
[ "$(rc)" = 2 ] && ok "--shard 1/0 refused" || fail "--shard 1/0: exit $(rc)"
finish
