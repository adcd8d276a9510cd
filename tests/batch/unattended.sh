#!/usr/bin/env bash
# What a scheduled job relies on: the output folder lock (fail naming the
# holder, or --wait), --max-errors, --log json, the progress bar only on a
# terminal, and leftovers of killed runs cleaned up.
#   tests/batch/unattended.sh KPIEVAL
bin=$1
. "$(dirname "$0")/lib.sh"
command -v flock >/dev/null || { echo "flock (util-linux) is needed"; exit 1; }

"$bin" generate 2000 "$tmp/data" --seed 3 || fail "generate"

# --- the lock -------------------------------------------------------------
# Another holder of OUT.lock (flock, as kpieval takes it), who wrote its
# PID in it as kpieval does (engine/lock.c).
mkdir -p "$tmp/reports"
printf 'kpieval-lock 1\npid 424242, started 2026-01-01T02:30:00Z\n' >"$tmp/reports/night.lock"
flock "$tmp/reports/night.lock" sleep 3 &
holder=$!
sleep 0.5
start=$(date +%s%N)
run run "$tmp/data" --out "$tmp/reports/night" --quiet
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(rc)" = 2 ] || fail "locked folder: exit $(rc), expected 2"
grep -q "pid 424242" "$tmp/last.stderr" && grep -q -- "or have this run wait (see --wait)" "$tmp/last.stderr" &&
    ok "a locked folder is refused, naming the holder" ||
    fail "lock message lacks the holder or --wait: $(cat "$tmp/last.stderr")"
[ "$elapsed_ms" -lt 2500 ] || fail "refusal was not immediate (${elapsed_ms} ms)"
[ ! -e "$tmp/reports/night" ] || fail "a refused run wrote its report"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# --wait: a holder that lets go 2 s from now; the run must wait for it.
printf 'kpieval-lock 1\npid 424243, started 2026-01-01T02:30:00Z\n' >"$tmp/reports/night.lock"
flock "$tmp/reports/night.lock" sleep 2 &
holder=$!
sleep 0.3
start=$(date +%s%N)
run run "$tmp/data" --out "$tmp/reports/night" --quiet --wait
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if kill -0 "$holder" 2>/dev/null; then
    fail "--wait: the run ended while the holder still held the lock"
elif [ "$elapsed_ms" -lt 1500 ]; then
    fail "--wait did not wait: done in ${elapsed_ms} ms, the holder held the lock for 1.7 s"
elif [ "$(rc)" = 1 ] && [ -f "$tmp/reports/night/report.json" ]; then
    ok "--wait waits for the holder (${elapsed_ms} ms), then writes"
else
    fail "--wait: exit $(rc): $(cat "$tmp/last.stderr")"
fi
wait "$holder" 2>/dev/null
[ ! -e "$tmp/reports/night.lock" ] && ok "the lock file is removed after the run" ||
    fail "night.lock left behind"

# Two real runs at once on one folder: the first holds the lock while its
# three KPIs burn about a second of CPU each; the second, started once the
# lock is there, must be refused at once naming the first.
mkdir -p "$tmp/slow"
{
    echo 'id,name,department,target,formula'
    for i in 1 2 3; do
        echo "s$i,slow,A,1,\"(function() local s = 0 for j = 1, 3e7 do s = s + j % 7 end return x + s * 0 end)()\""
    done
} >"$tmp/slow/indicators.csv"
printf 'indicator,input,value\ns1,x,1\ns2,x,1\ns3,x,1\n' >"$tmp/slow/actuals.csv"
"$bin" run "$tmp/slow" --out "$tmp/reports/race" --quiet --jobs 1 --time-limit 60 \
    --max-instructions 10000000000 >/dev/null 2>"$tmp/r1.err" &
first=$!
for _ in $(seq 100); do
    [ -e "$tmp/reports/race.lock" ] && break
    sleep 0.05
done
run run "$tmp/slow" --out "$tmp/reports/race" --quiet
second=$(rc)
still=no
kill -0 "$first" 2>/dev/null && still=yes
wait "$first"
first_rc=$?
if [ "$second" != 2 ]; then
    fail "a concurrent run was not refused: exit $second"
elif [ "$still" = no ]; then
    fail "the first run ended before the second one was refused (test too fast)"
elif ! grep -q "another kpieval run is writing this report (pid $first" "$tmp/last.stderr"; then
    fail "concurrent refusal message: $(cat "$tmp/last.stderr")"
elif [ "$first_rc" != 0 ] || [ ! -f "$tmp/reports/race/report.json" ]; then
    fail "the first run: exit $first_rc: $(cat "$tmp/r1.err")"
else
    ok "a concurrent run is refused at once, naming the running PID; the first one writes"
fi

# --- leftovers of killed runs ---------------------------------------------
mkdir -p "$tmp/reports/night.kpieval-tmp-AbC123/departments" "$tmp/reports/night.kpieval-old-XyZ789"
# A user's own folders that merely look alike are never touched.
mkdir -p "$tmp/reports/night.kpieval-tmp-keep-me" "$tmp/reports/other.kpieval-tmp-AbC123" \
    "$tmp/reports/night.old-backup" "$tmp/reports/night.tmp-drafts"
touch "$tmp/reports/night.old-backup/mine" "$tmp/reports/night.tmp-drafts/mine"
run run "$tmp/data" --out "$tmp/reports/night" --quiet
[ ! -e "$tmp/reports/night.kpieval-tmp-AbC123" ] && [ ! -e "$tmp/reports/night.kpieval-old-XyZ789" ] &&
    ok "staging folders of killed runs removed" || fail "stale staging folders left"
[ -d "$tmp/reports/night.kpieval-tmp-keep-me" ] && [ -d "$tmp/reports/other.kpieval-tmp-AbC123" ] &&
    [ -f "$tmp/reports/night.old-backup/mine" ] && [ -f "$tmp/reports/night.tmp-drafts/mine" ] &&
    ok "unrelated folders kept" || fail "an unrelated folder was removed"

# Killed between the two renames of the fallback without an atomic
# exchange (NFS): no OUT, the old report in OUT.old-*. Even a run that
# then fails on its input must put the old report back.
mv "$tmp/reports/night" "$tmp/reports/night.kpieval-old-Qq1234"
mkdir "$tmp/reports/night.kpieval-tmp-Zz9876"
mkdir "$tmp/reports/night.kpieval-old-Ee5555" # not a complete report: never put back
run run "$tmp/nothing-here" --out "$tmp/reports/night" --quiet
[ "$(rc)" = 2 ] || fail "run on a missing dataset: exit $(rc)"
[ -f "$tmp/reports/night/report.json" ] && [ ! -e "$tmp/reports/night.kpieval-old-Qq1234" ] &&
    ok "a report left aside by a killed run is put back" ||
    fail "the previous report was not restored: $(ls "$tmp/reports")"

# --- --max-errors -----------------------------------------------------------
errors=$(python3 -c 'import csv, sys
print(sum(r["status"] == "error" for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))))' \
    "$tmp/reports/night/kpis.csv")
[ "$errors" -gt 0 ] || fail "the generated plan has no KPI in error"
cp -r "$tmp/reports/night" "$tmp/before"
run run "$tmp/data" --out "$tmp/reports/night" --max-errors $((errors - 1)) --quiet
[ "$(rc)" = 2 ] && grep -q "more than the $((errors - 1)) allowed; .* (see --max-errors)" "$tmp/last.stderr" &&
    ok "$errors errors > --max-errors $((errors - 1)): exit 2" ||
    fail "--max-errors $((errors - 1)): exit $(rc): $(tail -1 "$tmp/last.stderr")"
same_tree "$tmp/before" "$tmp/reports/night" && ok "--max-errors left the earlier report" ||
    fail "--max-errors changed the report"
run run "$tmp/data" --out "$tmp/reports/night" --max-errors "$errors" --quiet
[ "$(rc)" = 1 ] && ok "$errors errors = --max-errors $errors: exit 1" || fail "--max-errors $errors: exit $(rc)"
run run "$tmp/data" --out "$tmp/x" --max-errors -1
[ "$(rc)" = 2 ] || fail "--max-errors -1 accepted"

# --- --log json -------------------------------------------------------------
run run "$tmp/data" --out "$tmp/reports/night" --log json --quiet
[ "$(rc)" = 1 ] || fail "--log json: exit $(rc)"
python3 - "$tmp/last.stderr" "$errors" <<'PY' && ok "--log json: one JSON event per line" || fail "--log json"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
kinds = [e["event"] for e in events]
assert kinds[0] == "start" and kinds[-1] == "finish", kinds
phases = [e["phase"] for e in events if e["event"] == "phase"]
assert phases == ["load", "evaluate", "score", "rollup", "write"], phases
assert all(e["seconds"] >= 0 for e in events if e["event"] == "phase")
counts = [e for e in events if e["event"] == "counts"][0]
assert counts["kpis"] == 2000 and counts["error"] == int(sys.argv[2]), counts
fin = events[-1]
assert fin["exit"] == 1 and fin["kpis"] == 2000 and "achievement" in fin, fin
assert all("time" in e for e in events)
assert sum(k == "kpi" for k in kinds) == 20
PY
run check "$tmp/data" --evaluate --grades 'A"\:0' --log json
python3 - "$tmp/last.stderr" <<'PY' && ok "--log json escapes grade names" || fail "--log json grade escaping"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert events[-1]["grade"] == 'A"\\', events[-1]
PY
run run "$tmp/nothing-here" --out "$tmp/x" --log json
python3 - "$tmp/last.stderr" <<'PY' && ok "--log json: errors are events too" || fail "--log json error"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert [e["event"] for e in events] == ["start", "error", "finish"], events
assert events[-1]["exit"] == 2 and "not a dataset folder" in events[1]["message"]
PY
# A plugin whose top level fails on line 3 (run by the checker process,
# whose answer must keep the place) costs only its KPIs: a warning event
# naming the file and line.
mkdir -p "$tmp/broken-plugin"
printf 'local a = 1\n\nerror("not today")\n' >"$tmp/broken-plugin/broken.lua"
run run "$tmp/data" --out "$tmp/broken-out" --formulas "$tmp/broken-plugin" --log json
python3 - "$tmp/last.stderr" "$tmp/broken-plugin/broken.lua" <<'PY' &&
import json, sys
events = list(map(json.loads, open(sys.argv[1], encoding="utf-8")))
assert not [e for e in events if e["event"] == "error"], events
warning = [e for e in events if e["event"] == "warning" and sys.argv[2] in e["message"]][0]
assert warning["message"].startswith(sys.argv[2] + ":3: loading failed: not today"), warning
PY
    ok "--log json: a broken plugin is a warning naming its file and line" ||
    fail "--log json broken plugin warning: $(cat "$tmp/last.stderr")"
# An error event carries the place and the option as fields: a rules.csv
# check that does not compile (line 3) and a period no row has.
cp -r "$tmp/data" "$tmp/data-rules"
printf 'id,check\nR1,1 < 2\nR2,1 <\n' >"$tmp/data-rules/rules.csv"
run check "$tmp/data-rules" --log json
python3 - "$tmp/last.stderr" <<'PY' &&
import json, sys
error = [e for e in map(json.loads, open(sys.argv[1], encoding="utf-8")) if e["event"] == "error"][0]
assert error["file"].endswith("/rules.csv") and error["line"] == 3 and "option" not in error, error
assert "does not compile" in error["message"], error
PY
    ok "--log json: an error's file and line are fields" ||
    fail "--log json error fields: $(cat "$tmp/last.stderr")"
run check "$tmp/data" --period 1999 --log json
python3 - "$tmp/last.stderr" <<'PY' && ok "--log json: an error's option is a field" ||
import json, sys
error = [e for e in map(json.loads, open(sys.argv[1], encoding="utf-8")) if e["event"] == "error"][0]
assert error["file"].endswith("/actuals.csv") and error["option"] == "--period", error
assert error["message"].endswith("(see --period)"), error
PY
    fail "--log json error option: $(cat "$tmp/last.stderr")"

# --- the progress bar -------------------------------------------------------
"$bin" generate 60000 "$tmp/big" --seed 4 >/dev/null
run run "$tmp/big" --out "$tmp/reports/bar"
grep -q "evaluating" "$tmp/last.stderr" && fail "a progress bar without a terminal" ||
    ok "no progress bar when stderr is not a terminal"
if command -v script >/dev/null; then
    script -qec "'$bin' run '$tmp/big' --out '$tmp/reports/bar' --jobs 1 >/dev/null" /dev/null \
        >"$tmp/tty.out" </dev/null || true
    grep -q "kpieval: evaluating" "$tmp/tty.out" && grep -q "kpieval: writing" "$tmp/tty.out" &&
        ok "a progress bar on a terminal" || fail "no progress bar on a terminal"
    script -qec "'$bin' run '$tmp/big' --out '$tmp/reports/bar' --quiet" /dev/null \
        >"$tmp/tty-quiet.out" </dev/null || true
    grep -q "evaluating" "$tmp/tty-quiet.out" && fail "a progress bar with --quiet" ||
        ok "no progress bar with --quiet"
else
    echo "note: no 'script' command; the terminal part was skipped"
fi
finish
