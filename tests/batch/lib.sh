# Shared by the batch tests: a scratch folder, failure counting, a small
# generated dataset. Source it after setting bin=PATH_TO_KPIEVAL.
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-batch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    exit 0
}
# Runs kpieval, keeping stdout, stderr and the exit status in $tmp/last.*
run() {
    "$bin" "$@" >"$tmp/last.stdout" 2>"$tmp/last.stderr" </dev/null
    echo $? >"$tmp/last.rc"
    return "$(cat "$tmp/last.rc")"
}
rc() { cat "$tmp/last.rc"; }
# Every file under two folders, byte for byte.
same_tree() { diff -r "$1" "$2" >"$tmp/diff.out" 2>&1; }
. "$(dirname "${BASH_SOURCE[0]}")/same_report.sh"
