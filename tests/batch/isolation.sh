#!/usr/bin/env bash
# Per-evaluation limits and isolation that only show over many KPIs
# (docs/security.md, issue 9 of the red-team pass):
#   - the memory cap is measured from a clean baseline, not ratcheted up
#     by the garbage of earlier KPIs (same outcome at every --jobs);
#   - every message is kept, however many KPIs fail at one worker;
#   - the time limit is CPU time: ordinary KPIs pass on an oversubscribed
#     machine (more workers than CPUs);
#   - the reports of a mixed plan are byte-identical at --jobs 1, 2, 3 and
#     --in-process, idle and under load.
set -u
KPIEVAL=${1:?usage: isolation.sh KPIEVAL}
WRAP=${KPIEVAL_TEST_WRAPPER:-}
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { $WRAP "$KPIEVAL" "$@"; }

header='id,name,department,unit,direction,baseline,target,formula'

# 1. KPI i holds 25*i MB live: only the first fits under the 32 MiB limit.
mkdir -p "$T/ratchet"
{
    echo "$header"
    for i in 1 2 3 4 5; do
        echo "m$i,m$i,d/m,MB,increase,,1,\"(function() local t = {} for j = 1, $((25 * i)) do t[j] = string.rep('x', 1000000) .. j end return #t end)()\""
    done
} > "$T/ratchet/indicators.csv"
{ echo 'indicator,period,input,value'; for i in 1 2 3 4 5; do echo "m$i,,x,1"; done; } > "$T/ratchet/actuals.csv"
for mode in "--jobs 1" "--jobs 5" "--in-process"; do
    run check "$T/ratchet" --evaluate $mode > "$T/out.txt" 2>&1
    ok=$(grep -c 'memory limit' "$T/out.txt")
    [ "$ok" = 4 ] || bad "ratchet $mode: $ok KPIs over the memory limit, want 4: $(head -c 600 "$T/out.txt")"
done

# 2. 70k KPIs whose errors are about 500 bytes each at one worker: all kept.
python3 - "$T/msgs" <<'PY'
import os, sys
d = sys.argv[1]; os.makedirs(d)
with open(os.path.join(d, "indicators.csv"), "w") as f:
    f.write("id,name,department,unit,direction,baseline,target,formula\n")
    for i in range(70000):
        f.write("e%05d,e,d/e,n,increase,,1,\"error(string.rep('y', 480) .. ' %05d')\"\n" % (i, i))
with open(os.path.join(d, "actuals.csv"), "w") as f:
    f.write("indicator,period,input,value\n")
    for i in range(70000):
        f.write("e%05d,,x,1\n" % i)
PY
for mode in "--jobs 1"; do
    rm -rf "$T/msgs-out"
    run run "$T/msgs" --out "$T/msgs-out" $mode --quiet > /dev/null 2>&1
    dropped=$(grep -c 'message dropped' "$T/msgs-out/kpis.csv")
    last=$(grep -c "y 69999" "$T/msgs-out/kpis.csv")
    [ "$dropped" = 0 ] && [ "$last" = 1 ] || bad "messages $mode: $dropped dropped, last present $last"
done

# 3. 12 ordinary KPIs of about 0.3 s of CPU each, 12 workers on this
#    machine's CPUs, a 1 s limit: in wall time they would overrun.
mkdir -p "$T/busy"
{
    echo "$header"
    for i in $(seq 1 12); do
        echo "b$i,b$i,d/b,n,increase,,1,\"(function() local s = 0 for j = 1, 6000000 do s = s + j % 7 end return s end)()\""
    done
} > "$T/busy/indicators.csv"
{ echo 'indicator,period,input,value'; for i in $(seq 1 12); do echo "b$i,,x,1"; done; } > "$T/busy/actuals.csv"
if [ -z "$WRAP" ]; then
    run check "$T/busy" --evaluate --jobs 12 --time-limit 1 --max-instructions 1000000000 > "$T/out.txt" 2>&1
    n=$(grep -c 'time limit' "$T/out.txt")
    [ "$n" = 0 ] || bad "busy: $n ordinary KPIs failed the time limit: $(head -c 400 "$T/out.txt")"
fi

# 4. A mixed plan: ordinary KPIs beside allocation-heavy, sort-heavy,
#    GC-probing and long-message ones; same bytes at every --jobs, idle
#    and with every CPU busy.
mkdir -p "$T/mixed"
python3 - "$T/mixed" <<'PY'
import os, sys
d = sys.argv[1]
kinds = [
    "x * 2 + y",
    "(function() local t = {} for j = 1, 6 do t[j] = string.rep('z', 1000000) .. j end return #t end)()",
    "(function() local t = {} for j = 1, 3000 do t[j] = (j * 7919) % 3001 end table.sort(t, function(a, b) return a > b end) local h = 0 for j = 1, #t do h = (h * 31 + t[j]) % 1000003 end return h end)()",
    "(function() local ok = pcall(setmetatable, {}, {__mode = 'k'}) local n = 0 for j = 1, 20000 do local g = {j} n = n + #g end return ok and -1 or n end)()",
    "error(string.rep('long message ', 60))",
    "(function() local s = '' for j = 1, 2000 do s = s .. j end return #s end)()",
]
with open(os.path.join(d, "indicators.csv"), "w") as f:
    f.write("id,name,department,unit,direction,baseline,target,formula\n")
    for i in range(120):
        f.write('k%03d,k,d/%d,n,increase,,10,"%s"\n' % (i, i % 5, kinds[i % len(kinds)]))
with open(os.path.join(d, "actuals.csv"), "w") as f:
    f.write("indicator,period,input,value\n")
    for i in range(120):
        f.write("k%03d,,x,%d\nk%03d,,y,3\n" % (i, i, i))
PY
reference=""
for load in idle busy; do
    if [ $load = busy ]; then
        for c in 1 2; do (while :; do :; done) & done
    fi
    modes="--jobs_1 --jobs_2 --jobs_3 --in-process"
    [ $load = busy ] && modes="--jobs_1 --jobs_3"
    for mode in $modes; do
        mode=${mode/_/ }
        rm -rf "$T/mixed-out"
        run run "$T/mixed" --out "$T/mixed-out" $mode --quiet > /dev/null 2>&1
        # report.json but for the provenance's command and times, which
        # tell the runs apart (same_report.sh)
        sum=$(cd "$T/mixed-out" && { cat kpis.csv departments.csv &&
            sed -E '/^    "(command|started|finished)": /d' report.json; } | sha256sum)
        [ -n "$reference" ] || { reference=$sum; cp "$T/mixed-out/kpis.csv" "$T/reference.csv"; }
        [ "$sum" = "$reference" ] || { bad "mixed $load $mode: reports differ"; diff "$T/reference.csv" "$T/mixed-out/kpis.csv" | head -5; }
    done
done
kill $(jobs -p) 2>/dev/null
grep -q ',ok,' "$T/reference.csv" || bad "mixed: no ok KPI"

[ $fail = 0 ] && echo "PASS isolation"
exit $fail
