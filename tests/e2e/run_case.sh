#!/usr/bin/env bash
# Run one golden end-to-end case of kpieval.
#
#   tests/e2e/run_case.sh CASE_DIR KPIEVAL_BINARY
#
# Exit 0 when the case passes; otherwise prints what differs and exits 1
# (exit 3 for a broken case or a missing binary). See tests/e2e/README.md.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 CASE_DIR KPIEVAL_BINARY" >&2
    exit 3
fi
if [ ! -d "$1" ]; then
    echo "run_case: no case folder '$1'" >&2
    exit 3
fi
case_dir=$(cd "$1" && pwd -P)
bin=$2
case "$bin" in
    */*) bin=$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin") ;;
esac
if [ ! -x "$bin" ] && ! command -v "$bin" >/dev/null 2>&1; then
    echo "run_case: kpieval binary '$2' not found or not executable" >&2
    exit 3
fi
name=$(basename "$case_dir")
expected="$case_dir/expected"

for f in args exit; do
    if [ ! -f "$case_dir/$f" ]; then
        echo "run_case: $name: missing file '$f'" >&2
        exit 3
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-e2e.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
# $OUT lies two folders below anything that exists, so an exit 2 that
# made the folders above it (and wrote nothing else) is caught too.
out="$tmp/new/parents/out"
dataset="$case_dir/dataset"
# kpieval runs in an empty folder of its own: nothing may appear there.
cwd="$tmp/cwd"
mkdir "$cwd" || exit 3
# Every file of the dataset with its size and time: no run may change one.
snapshot() { (cd "$dataset" 2>/dev/null && find . -printf '%p %s %T@\n' | LC_ALL=C sort); }
snapshot >"$tmp/dataset.before"

# Arguments: one per line; empty lines are skipped; placeholders substituted.
args=()
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    [ -z "$line" ] && continue
    line=${line//'$DATASET'/"$dataset"}
    line=${line//'$OUT'/"$out"}
    line=${line//'$CASE'/"$case_dir"}
    args+=("$line")
done <"$case_dir/args"

want_exit=$(tr -d ' \t\r\n' <"$case_dir/exit")
case "$want_exit" in
    0|1|2) ;;
    *) echo "run_case: $name: 'exit' must hold 0, 1 or 2, not '$want_exit'" >&2; exit 3 ;;
esac

# A `preexisting` case starts from an earlier report in $OUT.
if [ -e "$case_dir/preexisting" ]; then
    out="$tmp/out"
    mkdir -p "$out"
    printf 'old\n' >"$out/kpis.csv"
    printf '{}\n' >"$out/report.json"
    mkdir -p "$tmp/before"
    cp -p "$out/kpis.csv" "$out/report.json" "$tmp/before/"
    (cd "$out" && find . | LC_ALL=C sort) >"$tmp/before.list"
fi

timeout_cmd=()
if command -v timeout >/dev/null 2>&1; then
    timeout_cmd=(timeout 120)
fi
# KPIEVAL_TEST_WRAPPER, when set, runs the binary under a tool, e.g.
# "valgrind --error-exitcode=99 -q ..." (make valgrind); split on blanks.
# Its stderr is a pipe: worker processes cannot write to a regular file
# (no file size), and the tool's reports from them must get through.
wrapper=()
if [ -n "${KPIEVAL_TEST_WRAPPER:-}" ]; then
    read -r -a wrapper <<<"$KPIEVAL_TEST_WRAPPER"
    (cd "$cwd" && "${timeout_cmd[@]}" "${wrapper[@]}" "$bin" "${args[@]}" </dev/null 2>&1 \
        >"$tmp/stdout" | cat >"$tmp/stderr"; exit "${PIPESTATUS[0]}")
    rc=$?
else
    (cd "$cwd" && exec "${timeout_cmd[@]}" "$bin" "${args[@]}" </dev/null >"$tmp/stdout" \
        2>"$tmp/stderr")
    rc=$?
fi

failures=0
fail() {
    failures=$((failures + 1))
    printf 'FAIL %s: %s\n' "$name" "$*"
}

if [ "$rc" != "$want_exit" ]; then
    fail "exit status $rc, expected $want_exit"
fi
# A worker's report need not change kpieval's exit status: any valgrind
# line (==PID==) counts, so the tool must be quiet when all is well.
if [ ${#wrapper[@]} -gt 0 ] && grep -q '^==[0-9]*== ' "$tmp/stderr"; then
    fail "${wrapper[0]} reported errors: see stderr"
fi

if [ "$want_exit" = 2 ]; then
    if [ -e "$case_dir/preexisting" ]; then
        for f in kpis.csv report.json; do
            if ! cmp -s "$tmp/before/$f" "$out/$f"; then
                fail "the earlier $f in the output folder was changed or removed"
            fi
        done
        if [ -d "$out" ]; then
            (cd "$out" && find . | LC_ALL=C sort) >"$tmp/after.list"
            if ! diff -u "$tmp/before.list" "$tmp/after.list" >"$tmp/list.diff"; then
                fail "files were added to or removed from the output folder"
                cat "$tmp/list.diff"
            fi
        else
            fail "the output folder was removed"
        fi
    elif [ -e "$tmp/new" ]; then
        fail "exit 2 must write nothing, but the output folder or the folders above it were created:"
        (cd "$tmp" && find new | LC_ALL=C sort | head -20)
    fi
fi
if [ -n "$(ls -A "$cwd")" ]; then
    fail "files appeared in the working folder: $(ls -A "$cwd" | head -5 | tr '\n' ' ')"
fi
if ! snapshot | cmp -s - "$tmp/dataset.before"; then
    fail "the dataset folder was changed:"
    snapshot | diff "$tmp/dataset.before" - | head -10
fi

# Print a CSV file with the message field of every row but the header
# blanked (the column named "message", else the last; a leading byte order
# mark kept as it is).
# Every other byte is kept as is (quoting, line endings), so the comparison
# stays exact for all the other columns.
blank_message() {
    python3 - "$1" <<'PY'
import sys

data = open(sys.argv[1], 'rb').read().decode('utf-8', 'surrogateescape')
n = len(data)
i = 0
records = []
while i < n:
    fields = []
    while True:
        start = i
        if i < n and data[i] == '"':
            i += 1
            while i < n:
                if data[i] == '"':
                    if i + 1 < n and data[i + 1] == '"':
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
        while i < n and data[i] not in ',\r\n':
            i += 1
        fields.append(data[start:i])
        if i < n and data[i] == ',':
            i += 1
            continue
        break
    if data.startswith('\r\n', i):
        term = '\r\n'
        i += 2
    elif i < n:
        term = data[i]
        i += 1
    else:
        term = ''
    records.append((fields, term))

out = []
header = [f.lstrip('\ufeff') for f in records[0][0]] if records else []
col = next((header.index(h) for h in ('message', '비고') if h in header), -1)
for k, (fields, term) in enumerate(records):
    if k > 0 and fields:
        fields = list(fields)
        fields[col if col < len(fields) else -1] = ''
    out.append(','.join(fields) + term)
sys.stdout.buffer.write(''.join(out).encode('utf-8', 'surrogateescape'))
PY
}

if [ "$want_exit" != 2 ]; then
    for f in kpis.csv departments.csv; do
        if [ -f "$expected/$f" ] && [ ! -f "$out/$f" ]; then
            fail "$f was not written"
        fi
    done
    if [ -f "$expected/kpis.csv" ] && [ -f "$out/kpis.csv" ]; then
        blank_message "$expected/kpis.csv" >"$tmp/kpis.expected" &&
            blank_message "$out/kpis.csv" >"$tmp/kpis.actual"
        if ! diff -u --label expected/kpis.csv --label produced/kpis.csv \
                "$tmp/kpis.expected" "$tmp/kpis.actual" >"$tmp/kpis.diff"; then
            fail "kpis.csv differs (message column ignored):"
            LC_ALL=C sed 's/\r/<CR>/g' "$tmp/kpis.diff" | head -80
        fi
    fi
    if [ -f "$expected/departments.csv" ] && [ -f "$out/departments.csv" ]; then
        if ! diff -u --label expected/departments.csv --label produced/departments.csv \
                "$expected/departments.csv" "$out/departments.csv" >"$tmp/dept.diff"; then
            fail "departments.csv differs:"
            LC_ALL=C sed 's/\r/<CR>/g' "$tmp/dept.diff" | head -80
        fi
    fi
    if [ -f "$expected/messages" ]; then
        if [ ! -f "$out/kpis.csv" ]; then
            fail "kpis.csv was not written, cannot check messages"
        else
            python3 - "$out/kpis.csv" "$expected/messages" >"$tmp/messages.out" <<'PY'
import csv, sys

with open(sys.argv[1], newline='', encoding='utf-8', errors='surrogateescape') as f:
    rows = list(csv.reader(f))
if not rows or 'id' not in rows[0] or 'message' not in rows[0]:
    print('kpis.csv has no id or message column')
    sys.exit(1)
idc, mc = rows[0].index('id'), rows[0].index('message')
msgs = {}
for r in rows[1:]:
    if len(r) > max(idc, mc):
        msgs.setdefault(r[idc], r[mc])
bad = 0
with open(sys.argv[2], encoding='utf-8') as f:
    for line in f:
        line = line.rstrip('\r\n')
        if not line.strip():
            continue
        kid, _, want = line.partition('\t')
        if kid not in msgs:
            print(f'no row for KPI {kid!r}')
            bad += 1
        elif want not in msgs[kid]:
            print(f'message of {kid} does not contain {want!r}: {msgs[kid]!r}')
            bad += 1
sys.exit(1 if bad else 0)
PY
            if [ $? -ne 0 ]; then
                fail "messages:"
                cat "$tmp/messages.out"
            fi
        fi
    fi
    if [ -f "$expected/files" ]; then
        while IFS= read -r path || [ -n "$path" ]; do
            path=${path%$'\r'}
            [ -z "$path" ] && continue
            if [ ! -e "$out/$path" ]; then
                fail "expected output '$path' does not exist"
            fi
        done <"$expected/files"
    fi
fi

if [ -f "$expected/stderr" ]; then
    while IFS= read -r want || [ -n "$want" ]; do
        want=${want%$'\r'}
        [ -z "$want" ] && continue
        if ! grep -qF -- "$want" "$tmp/stderr"; then
            fail "stderr does not contain: $want"
        fi
    done <"$expected/stderr"
fi

if [ "$failures" -gt 0 ]; then
    echo "--- command: ${wrapper[*]}${wrapper[*]:+ }$bin ${args[*]}"
    echo "--- exit status: $rc"
    echo "--- stderr:"
    if [ ${#wrapper[@]} -gt 0 ]; then
        cat "$tmp/stderr" # the tool's whole report
    else
        head -c 4000 "$tmp/stderr"
    fi
    echo "--- stdout:"
    head -c 2000 "$tmp/stdout"
    exit 1
fi
echo "PASS $name"
exit 0
