#!/usr/bin/env bash
# examples/nightly: the nightly script run for several nights against the
# real kpieval on a small generated plan (dated folders, pruning to KEEP,
# folders that are not dated reports never deleted, the `latest` symlink,
# exit statuses), the options it passes (through a stub kpieval), the
# crontab line (parsed, then run with its paths moved into a temporary
# folder), and the systemd units (systemd-analyze verify, when available).
#
# usage: nightly_test.sh KPIEVAL SOURCE_DIR
set -euo pipefail
bin=$(realpath "$1") src=$(realpath "$2")
dir=$src/examples/nightly
script=$dir/kpieval-nightly.sh
tmp=$(mktemp -d)
. "$(dirname "$0")/../batch/same_report.sh"
trap 'rm -rf "$tmp"' EXIT
checks=0

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$tmp/stderr" ]; then
        echo "--- the last run's stderr:" >&2
        tail -n 30 "$tmp/stderr" >&2
    fi
    exit 1
}
ok() { checks=$((checks + 1)); }

[ -x "$bin" ] || fail "kpieval binary '$bin' is not executable"
[ -x "$script" ] || fail "'$script' is missing or not executable"

# ---- fixtures ---------------------------------------------------------------

plan=$tmp/plan
seoul=$src/datasets/seoul-2019
"$bin" generate 300 "$plan" --seed 7 >/dev/null
mkdir -p "$tmp/broken"
printf 'id,name\nK1,one\n' >"$tmp/broken/indicators.csv" # no department, target, formula
printf 'indicator,input,value\nK1,x,1\n' >"$tmp/broken/actuals.csv"

# The reports the nightly folders must equal, made directly.
direct_rc() { # dataset, out
    local rc=0
    "$bin" run "$1" --out "$2" --quiet >/dev/null 2>&1 || rc=$?
    echo "$rc"
}
plan_rc=$(direct_rc "$plan" "$tmp/direct-plan")
seoul_rc=$(direct_rc "$seoul" "$tmp/direct-seoul")
[ "$plan_rc" = 1 ] || fail "the generated plan should leave some KPIs not ok (exit 1), got $plan_rc"
[ "$seoul_rc" = 0 ] || fail "datasets/seoul-2019 should evaluate with exit 0, got $seoul_rc"

# Does this kpieval have the options the script passes by default?
probe_rc=0
"$bin" run "$seoul" --out "$tmp/probe" --quiet --log json --max-errors 10 --wait \
    >/dev/null 2>"$tmp/probe.stderr" || probe_rc=$?
if grep -q "unknown option" "$tmp/probe.stderr"; then
    new_options=no
    export KPIEVAL_OPTIONS=--quiet
    echo "note: this kpieval lacks --log json/--max-errors/--wait" \
        "($(grep -m1 "unknown option" "$tmp/probe.stderr")); nights run with KPIEVAL_OPTIONS=--quiet"
else
    [ "$probe_rc" = 0 ] || fail "kpieval run --quiet --log json --max-errors 10 --wait: exit $probe_rc: $(cat "$tmp/probe.stderr")"
    new_options=yes
    unset KPIEVAL_OPTIONS
    echo "note: this kpieval has --log json/--max-errors/--wait; nights run with the script's default options"
fi

reports=$tmp/reports
mkdir -p "$reports"
# Things that are not dated kpieval reports: none may ever be deleted.
decoys=(2025-12-30 archive-2025-01-01 2025-12-29.bak 2025-12-28.kpieval-tmp-AbCdEf 20251225 2025-12-27 2025-12-26 README.txt)
mkdir "$reports/2025-12-30" && echo "a date, but no report.json" >"$reports/2025-12-30/notes.txt"
for d in archive-2025-01-01 2025-12-29.bak 2025-12-28.kpieval-tmp-AbCdEf 20251225; do
    cp -r "$tmp/direct-plan" "$reports/$d" # report.json, but not a date name
done
cp -r "$tmp/direct-plan" "$tmp/elsewhere"
ln -s "$tmp/elsewhere" "$reports/2025-12-27" # a date and a report, but a symlink
echo "a file named like a date" >"$reports/2025-12-26"
echo "keep me" >"$reports/README.txt"
# A real dated report, older than every night below: pruned like the others.
cp -r "$tmp/direct-plan" "$reports/2025-12-01"

# ---- helpers ----------------------------------------------------------------

# night DATE [VAR=value ...]: runs the script; sets $rc. stdout must stay empty.
night() {
    local date=$1
    shift
    rc=0
    env KPIEVAL="$bin" DATASET="$plan" REPORTS="$reports" KEEP=3 NIGHTLY_DATE="$date" "$@" \
        "$script" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
    [ ! -s "$tmp/stdout" ] || fail "night $date: the script wrote to stdout: $(head -3 "$tmp/stdout")"
    if compgen -G "$reports/.latest.tmp-*" >/dev/null; then
        fail "night $date: a temporary latest link was left behind"
    fi
}

# The dated report folders now in REPORTS, oldest first.
dated_reports() {
    local p
    for p in "$reports"/*; do
        local n=${p##*/}
        if [[ $n =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] && [ -d "$p" ] && [ ! -L "$p" ] && [ -f "$p/report.json" ]; then
            printf '%s ' "$n"
        fi
    done
}

expect_reports() { # what, expected list
    local got
    got=$(dated_reports)
    [ "$got" = "$2 " ] || fail "$1: dated reports are '$got', expected '$2 '"
    ok
}

expect_latest() { # what, date
    [ -L "$reports/latest" ] || fail "$1: $reports/latest is not a symlink"
    [ "$(readlink "$reports/latest")" = "$2" ] ||
        fail "$1: latest -> '$(readlink "$reports/latest")', expected '$2'"
    [ -f "$reports/latest/report.json" ] || fail "$1: latest does not lead to a report"
    ok
}

expect_rc() { # what, status
    [ "$rc" = "$2" ] || fail "$1: exit $rc, expected $2"
    ok
}

expect_same() { # what, folder, reference
    same_report "$3" "$2" || fail "$1: '$2' differs from a direct kpieval run: $(head -5 "$tmp/diff.out")"
    ok
}

expect_decoys() { # what
    local d
    for d in "${decoys[@]}"; do
        [ -e "$reports/$d" ] || [ -L "$reports/$d" ] || fail "$1: '$d' was deleted; it is not a dated kpieval report"
    done
    [ -f "$reports/2025-12-30/notes.txt" ] || fail "$1: 2025-12-30/notes.txt was deleted"
    if ! [ -L "$reports/2025-12-27" ] || ! diff -r "$tmp/direct-plan" "$tmp/elsewhere" >/dev/null; then
        fail "$1: the symlinked report or its target was touched"
    fi
    ok
}

expect_json_log() { # what: with --log json, every line is the script's or a JSON object
    [ "$new_options" = yes ] || return 0
    python3 - "$tmp/stderr" "$1" <<'PY' || fail "$1: stderr is not JSON lines (--log json)"
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if line.startswith("kpieval-nightly: "):
        continue
    try:
        assert isinstance(json.loads(line), dict)
    except Exception:
        sys.exit("%s: stderr line %d is neither the script's nor a JSON object: %r" % (sys.argv[2], n, line))
PY
    ok
}

# ---- nights -----------------------------------------------------------------

expected=(2025-12-01)
for day in 01 02 03 04 05; do
    date=2026-01-$day
    night "$date"
    expect_rc "night $date" 1
    expected+=("$date")
    start=$((${#expected[@]} > 3 ? ${#expected[@]} - 3 : 0))
    keep=("${expected[@]:start}")
    expect_reports "night $date (KEEP=3)" "${keep[*]}"
    expected=("${keep[@]}")
    expect_latest "night $date" "$date"
    expect_same "night $date" "$reports/$date" "$tmp/direct-plan"
    expect_decoys "night $date"
    expect_json_log "night $date"
    grep -q "^kpieval-nightly: " "$tmp/stderr" || fail "night $date: nothing logged on stderr"
done
grep -q "removed old report '2026-01-02'" "$tmp/stderr" || fail "the removal of 2026-01-02 was not logged"
grep -q "warning: '$reports/2025-12-28.kpieval-tmp-AbCdEf' was left by a killed kpieval run" "$tmp/stderr" ||
    fail "the leftover staging folder 2025-12-28.kpieval-tmp-AbCdEf was not reported"

# Every KPI ok: exit 0.
night 2026-01-06 DATASET="$seoul"
expect_rc "night 2026-01-06 (seoul-2019)" 0
expect_reports "night 2026-01-06" "2026-01-04 2026-01-05 2026-01-06"
expect_latest "night 2026-01-06" 2026-01-06
expect_same "night 2026-01-06" "$reports/2026-01-06" "$tmp/direct-seoul"

# The same date again replaces that night's report.
night 2026-01-06
expect_rc "night 2026-01-06 rerun" 1
expect_same "night 2026-01-06 rerun" "$reports/2026-01-06" "$tmp/direct-plan"
expect_reports "night 2026-01-06 rerun" "2026-01-04 2026-01-05 2026-01-06"

# A backfill of an older date is written and kept, latest stays on the newest;
# the next night prunes it with the others.
night 2025-11-30
expect_rc "backfill 2025-11-30" 1
expect_reports "backfill 2025-11-30" "2025-11-30 2026-01-04 2026-01-05 2026-01-06"
expect_latest "backfill 2025-11-30" 2026-01-06
night 2026-01-07
expect_rc "night 2026-01-07" 1
expect_reports "night 2026-01-07" "2026-01-05 2026-01-06 2026-01-07"
expect_latest "night 2026-01-07" 2026-01-07

# ---- failures: exit 2, latest and the reports left as they were --------------

state() { echo "$(dated_reports)|$(readlink "$reports/latest")"; }
before=$(state)
expect_untouched() { # what
    [ "$(state)" = "$before" ] || fail "$1: reports or latest changed: '$(state)', was '$before'"
    expect_decoys "$1"
}

night 2026-01-08 DATASET="$tmp/broken"
expect_rc "input error (kpieval exit 2)" 2
[ ! -e "$reports/2026-01-08" ] || fail "input error: a 2026-01-08 folder was made"
grep -q "kpieval exited 2" "$tmp/stderr" || fail "input error: not logged"
expect_untouched "input error"

night 2026-01-08 KEEP=1 DATASET="$tmp/broken"
expect_rc "input error with KEEP=1" 2
expect_untouched "input error with KEEP=1 (nothing pruned)"

for bad in "DATASET=$tmp/no-such-plan" "KEEP=0" "KEEP=three" "KEEP=-1" "NIGHTLY_DATE=2026-1-8" \
    "NIGHTLY_DATE=../../etc" "KPIEVAL=$tmp/no-such-kpieval" "DATASET=" "REPORTS=" "MAX_ERRORS=many"; do
    night 2026-01-08 "$bad"
    expect_rc "$bad" 2
    grep -q "^kpieval-nightly: error: " "$tmp/stderr" || fail "$bad: no error logged"
    expect_untouched "$bad"
done

# More KPIs in status error than MAX_ERRORS: kpieval gives up with exit 2.
errors=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"]["error"])' \
    "$tmp/direct-plan/report.json")
[ "$errors" -ge 1 ] || fail "the generated plan has no KPI in status error; pick another seed"
if [ "$new_options" = yes ]; then
    night 2026-01-08 MAX_ERRORS=$((errors - 1))
    expect_rc "$errors KPIs in error, MAX_ERRORS=$((errors - 1))" 2
    [ ! -e "$reports/2026-01-08" ] || fail "MAX_ERRORS exceeded: a 2026-01-08 folder was made"
    expect_untouched "MAX_ERRORS exceeded"
    night 2026-01-08 MAX_ERRORS="$errors" KEEP=100
    expect_rc "$errors KPIs in error, MAX_ERRORS=$errors" 1
    rm -r "$reports/2026-01-08"
    ln -sfn 2026-01-07 "$reports/latest"
fi

# A plugin that fails to load costs only the KPIs that call it, so a run
# goes on; when they are many (the dataset's own broken ratio.lua shadows
# the standard one, and 80 KPIs call it) the default MAX_ERRORS stops the
# night before it replaces a good report.
if [ "$new_options" = yes ]; then
    cp -r "$plan" "$tmp/plan-broken-plugin"
    mkdir -p "$tmp/plan-broken-plugin/formulas"
    printf -- '-- ratio(a, b): saved half-edited\nreturn function(a, b) return a / end\n' \
        >"$tmp/plan-broken-plugin/formulas/ratio.lua"
    night 2026-01-08 DATASET="$tmp/plan-broken-plugin"
    expect_rc "a broken plugin called by many KPIs" 2
    [ ! -e "$reports/2026-01-08" ] || fail "broken plugin: a 2026-01-08 folder was made"
    grep -q "formulas/ratio.lua:2: unexpected symbol" "$tmp/stderr" ||
        fail "broken plugin: the plugin file is not named in the log"
    grep -q "more than the 10 allowed" "$tmp/stderr" || fail "broken plugin: MAX_ERRORS not named"
    expect_untouched "a broken plugin called by many KPIs"
fi

# `latest` that is not a symlink is never replaced.
mv "$reports/latest" "$tmp/latest.link"
mkdir "$reports/latest" && echo "someone's folder" >"$reports/latest/file"
night 2026-01-08
expect_rc "latest is a real folder" 2
[ -f "$reports/latest/file" ] || fail "latest is a real folder: it was replaced"
rm -r "$reports/latest" "$reports/2026-01-08" && mv "$tmp/latest.link" "$reports/latest"

# ---- the options passed, through a stub kpieval ------------------------------

stub=$tmp/stub-kpieval
cat >"$stub" <<'STUB'
#!/usr/bin/env bash
# Records its arguments, writes a report.json into --out, exits $STUB_EXIT.
printf '%s\n' "$@" >"$STUB_ARGS"
while [ $# -gt 0 ]; do
    if [ "$1" = --out ]; then mkdir -p "$2" && echo '{}' >"$2/report.json"; fi
    shift
done
exit "${STUB_EXIT:-0}"
STUB
chmod +x "$stub"
stub_night() { # exit, extra VAR=value...
    local code=$1
    shift
    rm -rf "$tmp/stub-reports"
    rc=0
    env -u KPIEVAL_OPTIONS KPIEVAL="$stub" STUB_ARGS="$tmp/args" STUB_EXIT="$code" DATASET="$plan" \
        REPORTS="$tmp/stub-reports" NIGHTLY_DATE=2026-02-01 "$@" "$script" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
}
stub_night 0
expect_rc "stub, default options" 0
printf '%s\n' run "$plan" --out "$tmp/stub-reports/2026-02-01" --quiet --log json --max-errors 10 --wait >"$tmp/want"
diff -u "$tmp/want" "$tmp/args" || fail "default options: kpieval was called with other arguments"
ok
stub_night 0 MAX_ERRORS=0 KPIEVAL_ARGS="--period 2019 --cap 100"
printf '%s\n' run "$plan" --out "$tmp/stub-reports/2026-02-01" --quiet --log json --max-errors 0 --wait \
    --period 2019 --cap 100 >"$tmp/want"
diff -u "$tmp/want" "$tmp/args" || fail "MAX_ERRORS and KPIEVAL_ARGS: kpieval was called with other arguments"
ok
stub_night 0 KPIEVAL_OPTIONS=
printf '%s\n' run "$plan" --out "$tmp/stub-reports/2026-02-01" >"$tmp/want"
diff -u "$tmp/want" "$tmp/args" || fail "empty KPIEVAL_OPTIONS: kpieval was called with other arguments"
ok
for code in 1 2 3 137; do
    stub_night "$code"
    expect_rc "kpieval exiting $code" "$code"
done
[ ! -e "$tmp/stub-reports/latest" ] || fail "kpieval exiting 137: latest was made"

echo "nightly script: $checks checks passed"

# ---- the crontab line ----------------------------------------------------------

# Parses examples/nightly/crontab (/etc/cron.d format: five time fields, a
# user, the command), checks it runs the script at 02:30, and prints the
# command with every absolute path but the script's moved under a folder.
python3 - "$dir/crontab" "$script" "$tmp/cron-root" >"$tmp/cron-command" <<'PY' || fail "crontab: see above"
import re, shlex, sys
path, script, root = sys.argv[1:]
jobs, env = [], {}
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", s)
    if m:
        env[m.group(1)] = m.group(2)
        continue
    jobs.append((n, s))
if len(jobs) != 1:
    sys.exit("crontab: expected one job line, found %d" % len(jobs))
n, job = jobs[0]
fields = job.split(None, 6)
if len(fields) < 7:
    sys.exit("crontab:%d: expected five time fields, a user and a command" % n)
if fields[:5] != ["30", "2", "*", "*", "*"]:
    sys.exit("crontab:%d: runs at '%s', expected '30 2 * * *' (02:30)" % (n, " ".join(fields[:5])))
if not re.match(r"^[a-z_][a-z0-9_-]*$", fields[5]):
    sys.exit("crontab:%d: the user field is '%s'" % (n, fields[5]))
command = fields[6]
if "%" in command:
    sys.exit("crontab:%d: an unescaped %% ends the command in cron" % n)
# The first simple command (before any redirection or ||) runs the script,
# directly or through flock LOCK.
words = shlex.split(re.split(r"\|\||&&|;|>|<|\|", command)[0])
if words and words[0] == "flock":
    i = 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in ("-w", "--timeout", "-E", "--conflict-exit-code") else 1
    words = words[i + 1:]  # after the lock file
if not words or not words[0].startswith("/") or not words[0].endswith("/kpieval-nightly.sh"):
    sys.exit("crontab:%d: the command does not run kpieval-nightly.sh by absolute path: %r" % (n, command))
for var in ("DATASET", "REPORTS"):
    if var not in env:
        sys.exit("crontab: no %s= line" % var)
script_path = words[0]
def move(m):
    p = m.group(0)
    return script if p == script_path else root + p
print(re.sub(r"(?<![\w.-])/[\w.-]+(?:/[\w.-]+)*", move, command))
PY
ok
mkdir -p "$tmp/cron-root"
grep -o "$tmp/cron-root/[^ \"']*" "$tmp/cron-command" | while read -r p; do mkdir -p "$(dirname "$p")"; done
cron_run() { # extra VAR=value... : runs the command as cron would (sh -c), stdout = the mail
    rc=0
    env -i PATH="$PATH" HOME="$tmp" KPIEVAL="$bin" DATASET="$plan" REPORTS="$tmp/cron-reports" \
        NIGHTLY_DATE=2026-03-01 KPIEVAL_OPTIONS="${KPIEVAL_OPTIONS-"--quiet --log json --max-errors 10 --wait"}" "$@" \
        sh -c "$(cat "$tmp/cron-command")" >"$tmp/mail" 2>&1 || rc=$?
}
cron_run
expect_rc "crontab line, a normal night (kpieval exit 1)" 0
[ ! -s "$tmp/mail" ] || fail "crontab line: cron would mail on a normal night: $(cat "$tmp/mail")"
[ -f "$tmp/cron-reports/2026-03-01/report.json" ] || fail "crontab line: no report written"
grep -rqs "kpieval-nightly: " "$tmp/cron-root" || fail "crontab line: the script's log is not in the log file"
cron_run DATASET="$tmp/broken"
expect_rc "crontab line, an input error" 0
grep -q "failed" "$tmp/mail" || fail "crontab line: an input error mails nothing"
ok
echo "crontab: the command runs $(grep -o "$script" "$tmp/cron-command" | head -1) at 02:30; passed"

# ---- the systemd units --------------------------------------------------------------

svc=$dir/kpieval-nightly.service timer=$dir/kpieval-nightly.timer
grep -qx 'ExecStart=/[^ ]*/kpieval-nightly.sh' "$svc" || fail "service: ExecStart does not run the script by absolute path"
grep -qx 'OnCalendar=\*-\*-\* 02:30:00' "$timer" || fail "timer: OnCalendar is not 02:30 every day"
grep -qx 'Persistent=true' "$timer" || fail "timer: Persistent=true missing"
grep -qx 'SuccessExitStatus=1' "$svc" || fail "service: exit 1 (some KPIs not ok) must count as success"
grep -qx 'ProtectSystem=strict' "$svc" || fail "service: ProtectSystem=strict missing"
grep -qx 'NoNewPrivileges=yes' "$svc" || fail "service: NoNewPrivileges=yes missing"
grep -qx 'PrivateTmp=yes' "$svc" || fail "service: PrivateTmp=yes missing"
grep -Eqx '(DynamicUser=yes|User=[a-z_][a-z0-9_-]*)' "$svc" || fail "service: runs as root (no User= or DynamicUser=)"
svc_reports=$(sed -n 's/^Environment=REPORTS=//p' "$svc")
grep -qx "ReadWritePaths=$svc_reports" "$svc" || fail "service: ReadWritePaths is not REPORTS ($svc_reports)"
ok
if command -v systemd-analyze >/dev/null; then
    mkdir "$tmp/units"
    sed "s#^ExecStart=.*#ExecStart=$script#" "$svc" >"$tmp/units/kpieval-nightly.service"
    cp "$timer" "$tmp/units/"
    systemd-analyze verify "$tmp/units/kpieval-nightly.service" "$tmp/units/kpieval-nightly.timer" \
        >"$tmp/verify" 2>&1 || fail "systemd-analyze verify: $(cat "$tmp/verify")"
    [ ! -s "$tmp/verify" ] || echo "systemd-analyze verify says: $(cat "$tmp/verify")"
    level=$(systemd-analyze security --offline=true "$tmp/units/kpieval-nightly.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: //p') || true
    echo "systemd units: verified${level:+, exposure level $level}; passed"
else
    echo "systemd units: static checks passed; systemd-analyze not found, verify skipped"
fi
echo "nightly: all passed"
