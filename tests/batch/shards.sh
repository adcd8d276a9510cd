#!/usr/bin/env bash
# run --shard I/N and merge give files byte-identical to a whole run, for
# N = 1, 2, 3 and 7; merge refuses incomplete or mixed sets of parts.
#   tests/batch/shards.sh KPIEVAL
bin=$1
. "$(dirname "$0")/lib.sh"

# 60 headquarters (16 teams of about 50 KPIs each) so every shard has some.
"$bin" generate 48000 "$tmp/data" --seed 5 || fail "generate"
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
    same_tree "$tmp/whole" "$tmp/n$n-merged" && ok "N=$n: merged report identical to the whole run" ||
        { fail "N=$n: merged report differs"; head -20 "$tmp/diff.out"; }
done

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
# A part changed after its run (here: report.json cut short) is refused.
cp -r "$tmp/n3-p1" "$tmp/cut-p1"
truncate -s -10 "$tmp/cut-p1/report.json"
run merge "$tmp/bad7" "$tmp/cut-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 2 ] && grep -q "changed since its run wrote it" "$tmp/last.stderr" &&
    ok "a truncated part refused" || fail "truncated part: exit $(rc): $(cat "$tmp/last.stderr")"
[ ! -e "$tmp/bad7" ] || fail "a refused merge wrote its output"
# A manifest is input: forged block totals (an infinite or out-of-range
# weighted sum, which would blank the overall figure) are refused.
for forged in -inf 0x1p+1023; do
    rm -rf "$tmp/forged-p1"
    cp -r "$tmp/n3-p1" "$tmp/forged-p1"
    awk -v v="$forged" '$1 == "block" && !done { $10 = v; done = 1 } { print }' \
        "$tmp/n3-p1/shard.txt" >"$tmp/forged-p1/shard.txt"
    run merge "$tmp/bad8" "$tmp/forged-p1" "$tmp/n3-p2" "$tmp/n3-p3"
    [ "$(rc)" = 2 ] && grep -q "not a kpieval shard manifest" "$tmp/last.stderr" && [ ! -e "$tmp/bad8" ] &&
        ok "forged block total $forged refused" ||
        fail "forged block total $forged: exit $(rc): $(cat "$tmp/last.stderr")"
done
# OUT with a trailing slash is OUT: its lock and staging go beside it.
run merge "$tmp/slash/" "$tmp/n3-p1" "$tmp/n3-p2" "$tmp/n3-p3"
[ "$(rc)" = 1 ] && same_tree "$tmp/whole" "$tmp/slash" && [ ! -e "$tmp/slash/.lock" ] &&
    grep -q "merged 3 partial reports" "$tmp/last.stdout" && grep -q "achievement [0-9.]* [A-Z]" "$tmp/last.stdout" &&
    ok "merge OUT/ works beside OUT and prints the overall grade" ||
    fail "merge OUT/: exit $(rc): $(cat "$tmp/last.stderr") $(cat "$tmp/last.stdout")"

run run "$tmp/data" --out "$tmp/x" --shard 4/3
[ "$(rc)" = 2 ] && ok "--shard 4/3 refused" || fail "--shard 4/3: exit $(rc)"
run run "$tmp/data" --out "$tmp/x" --shard 1/0
[ "$(rc)" = 2 ] && ok "--shard 1/0 refused" || fail "--shard 1/0: exit $(rc)"
finish
