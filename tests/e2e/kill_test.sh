#!/usr/bin/env bash
# A run killed at any moment leaves --out holding either the previous
# complete report or the new complete report: never a mix, never nothing.
#
# --out first holds a complete report of plan A; `kpieval run B --out` (B
# generated with another seed, so every report file differs) is sent
# SIGKILL after a random delay between 0 and the length of a normal run,
# ITERATIONS times, from a fixed seed. After each kill the folder must be
# byte-identical, recursively, to the reference report of A or to that of
# B; no worker process may outlive the kill; and a following normal run
# must succeed, leave the new report, and leave neither a staging folder
# of its own (OUT.kpieval-tmp-XXXXXX, OUT.kpieval-old-XXXXXX, engine/output.c) nor its lock
# file (OUT.lock, engine/lock.c) beside --out. Staging folders of the
# killed run may remain only if kpieval does not clean them up; how many
# is printed.
#
# The delays are reproducible; where in the run a kill lands depends on the
# machine. A busy machine makes runs slower: the test stops early (after at
# least 5 kills) rather than run past its time budget.
#
# usage: kill_test.sh KPIEVAL
# environment: KILL_TEST_ITERATIONS (30), KILL_TEST_SEED (2019),
#              KILL_TEST_KPIS (25000: a run of a third of a second or more),
#              KILL_TEST_BUDGET (45 seconds)
set -euo pipefail
bin=$(realpath "$1")
iterations=${KILL_TEST_ITERATIONS:-30}
seed=${KILL_TEST_SEED:-2019}
kpis=${KILL_TEST_KPIS:-25000}
budget_ms=$((${KILL_TEST_BUDGET:-45} * 1000))
tmp=$(mktemp -d)
. "$(dirname "$0")/../batch/same_report.sh"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
started=$(now_ms)

[ -x "$bin" ] || fail "kpieval binary '$bin' is not executable"
command -v pgrep >/dev/null || echo "note: no pgrep (procps): surviving worker processes are not checked"
old=$tmp/plan-old new=$tmp/plan-new out=$tmp/out
"$bin" generate "$kpis" "$old" --seed 1 >/dev/null
"$bin" generate "$kpis" "$new" --seed 2 >/dev/null

run() { # dataset, out: a normal run; prints its exit status
    local rc=0
    "$bin" run "$1" --out "$2" --quiet >/dev/null 2>&1 || rc=$?
    echo "$rc"
}
# Reports of two runs: alike but for the provenance's command and times
# (tests/batch/same_report.sh).
same() {
    rm -rf "$tmp/same.1" "$tmp/same.2"
    cp -a "$1" "$tmp/same.1" && cp -a "$2" "$tmp/same.2" && strip_run_lines "$tmp/same.1" &&
        strip_run_lines "$tmp/same.2" && diff -r --no-dereference "$tmp/same.1" "$tmp/same.2" >/dev/null 2>&1
}
staging() { # the staging folders beside --out, one per line
    local p
    for p in "$out".kpieval-tmp-* "$out".kpieval-old-*; do
        if [ -e "$p" ]; then echo "$p"; fi
    done
}

old_rc=$(run "$old" "$tmp/ref-old")
new_rc=$(run "$new" "$tmp/ref-new")
if [ "$old_rc" -gt 1 ] || [ "$new_rc" -gt 1 ]; then fail "reference runs exited $old_rc and $new_rc"; fi
if same "$tmp/ref-old" "$tmp/ref-new"; then fail "the two reference reports are identical"; fi
for f in kpis.csv departments.csv report.json; do
    if cmp -s "$tmp/ref-old/$f" "$tmp/ref-new/$f"; then fail "$f is the same in both reference reports"; fi
done

# How long a normal run takes, replacing a complete report as below: the
# median of three.
times=()
for _ in 1 2 3; do
    rm -rf "$out" && cp -a "$tmp/ref-old" "$out"
    t0=$(now_ms)
    rc=$(run "$new" "$out")
    t=$(($(now_ms) - t0))
    [ "$rc" = "$new_rc" ] || fail "a normal run exited $rc, expected $new_rc"
    same "$out" "$tmp/ref-new" || fail "a normal run did not leave the new report in --out"
    [ -z "$(staging)" ] || fail "a normal run left a staging folder: $(staging)"
    [ ! -e "$out.lock" ] || fail "a normal run left its lock file $out.lock"
    times+=("$t")
done
duration=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "a normal run of $kpis KPIs takes ${duration} ms; killing $iterations runs at random moments (seed $seed)"

RANDOM=$seed
evaluating=0 writing=0 removing=0 replaced=0 finished=0 leftovers=0 stale=0 locks=0
last=0
for ((i = 1; i <= iterations; i++)); do
    t0=$(now_ms)
    if [ "$i" -gt 5 ] && [ $((t0 + last - started)) -gt "$budget_ms" ]; then
        echo "time budget of $((budget_ms / 1000)) s spent: stopping after $((i - 1)) kills"
        break
    fi
    rm -rf "$out" "$out".kpieval-tmp-* "$out".kpieval-old-*
    cp -a "$tmp/ref-old" "$out"
    delay=$((RANDOM * (duration + 1) / 32768))

    "$bin" run "$new" --out "$out" --quiet >/dev/null 2>&1 &
    pid=$!
    sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    { wait "$pid"; } 2>/dev/null || rc=$? # without bash's "Killed" line
    pid=""

    # Workers die with their supervisor (PR_SET_PDEATHSIG): none may stay.
    for _ in $(seq 50); do
        pgrep -f -- "--out $out( |\$)" >/dev/null || break
        sleep 0.05
    done
    if pgrep -f -- "--out $out( |\$)" >/dev/null; then
        orphans=$(pgrep -f -- "--out $out( |\$)" | tr '\n' ' ')
        for p in $orphans; do kill -KILL "$p" 2>/dev/null || true; done
        fail "kill $i (after ${delay} ms): processes outlived the killed kpieval: $orphans"
    fi

    left=$(staging)
    if [ ! -e "$out" ] && [ ! -L "$out" ]; then
        fail "kill $i (after ${delay} ms, exit $rc): --out is missing; staging folders: ${left:-none}"
    elif [ -L "$out" ] || [ ! -d "$out" ]; then
        fail "kill $i (after ${delay} ms, exit $rc): --out is no longer a folder"
    elif same "$out" "$tmp/ref-old"; then
        if [ -n "$left" ]; then writing=$((writing + 1)); else evaluating=$((evaluating + 1)); fi
    elif same "$out" "$tmp/ref-new"; then
        if [ "$rc" != 137 ]; then
            finished=$((finished + 1))
        elif [ -n "$left" ]; then
            removing=$((removing + 1))
        else
            replaced=$((replaced + 1))
        fi
    else
        evidence=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-kill-evidence.XXXXXX")
        cp -a "$out" "$evidence/out"
        {
            echo "FAIL: kill $i (after ${delay} ms, exit $rc): --out is neither the old nor the new report"
            echo "--- against the old report:"
            diff -rq "$tmp/ref-old" "$out" | head -10 || true
            echo "--- against the new report:"
            diff -rq "$tmp/ref-new" "$out" | head -10 || true
            echo "--- staging folders: ${left:-none}"
            echo "--- the folder is kept in $evidence/out"
        } >&2
        exit 1
    fi
    if [ -n "$left" ]; then leftovers=$((leftovers + $(wc -l <<<"$left"))); fi
    if [ -e "$out.lock" ]; then locks=$((locks + 1)); fi

    # A normal run afterwards is not blocked by what the kill left, and
    # leaves no staging folder of its own.
    rc=$(run "$new" "$out")
    [ "$rc" = "$new_rc" ] || fail "kill $i: the next normal run exited $rc, expected $new_rc"
    same "$out" "$tmp/ref-new" || fail "kill $i: the next normal run did not leave the new report"
    after=$(staging)
    if [ -n "$after" ]; then
        while read -r p; do
            grep -qxF -- "$p" <<<"$left" ||
                fail "kill $i: the next normal run left a staging folder of its own: $p"
        done <<<"$after"
        stale=$((stale + $(wc -l <<<"$after")))
    fi
    [ ! -e "$out.lock" ] || fail "kill $i: the next normal run left the lock file $out.lock"
    last=$(($(now_ms) - t0))
done
kills=$((i - 1))

elapsed=$(($(now_ms) - started))
echo "kills that kept the old report:  $((evaluating + writing)) ($evaluating before writing began, $writing while the staging folder was written)"
echo "kills that found the new report: $((removing + replaced + finished)) ($removing while the old report was removed, $replaced after, $finished runs finished before the kill)"
echo "staging folders left by kills: $leftovers; still there after the next normal run: $stale"
echo "lock files left by kills: $locks; none after the next normal run"
echo "kill: $kills passed, 0 failed (${elapsed} ms)"
