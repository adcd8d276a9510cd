#!/usr/bin/env bash
# What kpieval opens and how: inputs and plugins that are not regular files
# (FIFOs, devices, symbolic links) are refused at once instead of hanging
# the run or echoing a foreign file; a huge bad file is worded from a window,
# not read whole; the lock never writes into or removes a file the run did
# not create; a symlinked --out is refused. Every refusal of an input is
# exit 2 and writes nothing: no OUT, no OUT.lock; a refused plugin costs
# only the KPIs that call it and is named in the run's warnings.
#   tests/e2e/run_files.sh KPIEVAL
bin=$1
. "$(dirname "$0")/../batch/lib.sh"
# Every run is bounded: a regression fails (exit 124) instead of hanging.
krun() { run_limit=${run_limit:-10}; timeout -k 2 "$run_limit" "$bin" "$@" \
    >"$tmp/last.stdout" 2>"$tmp/last.stderr" </dev/null; echo $? >"$tmp/last.rc"; }
has() { grep -qF -- "$1" "$tmp/last.stderr"; }
# refused NAME OUT WANT...: exit 2, OUT and OUT.lock absent, stderr has each WANT.
refused() {
    local name=$1 out=$2; shift 2
    local bad=0
    [ "$(rc)" = 2 ] || { fail "$name: exit $(rc), expected 2"; bad=1; }
    [ ! -e "$out" ] && [ ! -L "$out" ] || { fail "$name: $out written"; bad=1; }
    [ ! -e "$out.lock" ] || { fail "$name: $out.lock left behind"; bad=1; }
    for want in "$@"; do
        has "$want" || { fail "$name: stderr lacks '$want': $(head -c 600 "$tmp/last.stderr")"; bad=1; }
    done
    [ $bad = 1 ] || ok "$name"
}
# plugin_refused NAME OUT WANT: a refused plugin file costs only the KPIs
# that call it (none here): exit 0, the report written, and the run's
# warnings (stderr, report.json) name it with WANT.
plugin_refused() {
    local name=$1 out=$2 want=$3
    [ "$(rc)" = 0 ] && [ -f "$out/report.json" ] && has "kpieval: warning: " && has "$want" &&
        grep -qF -- "$want" "$out/report.json" && ok "$name" ||
        fail "$name: exit $(rc), stderr: $(head -c 600 "$tmp/last.stderr")"
}
# A one-KPI dataset in $tmp/NAME; formula K1 is ratio(done, planned).
dataset() {
    mkdir -p "$tmp/$1/formulas"
    printf 'id,name,department,target,formula\nK1,one,A,10,"ratio(done, planned)"\n' \
        >"$tmp/$1/indicators.csv"
    printf 'indicator,input,value\nK1,done,4\nK1,planned,5\n' >"$tmp/$1/actuals.csv"
}

# --- FIFOs and devices (issue 9) -----------------------------------------
for f in actuals.csv indicators.csv; do
    dataset "fifo-$f"
    rm "$tmp/fifo-$f/$f" && mkfifo "$tmp/fifo-$f/$f"
    krun run "$tmp/fifo-$f" --out "$tmp/fifo-$f.out" --quiet
    refused "a FIFO as $f is refused at once" "$tmp/fifo-$f.out" "$f: not a regular file"
done
dataset fifo-plugin
mkfifo "$tmp/fifo-plugin/formulas/x.lua"
krun run "$tmp/fifo-plugin" --out "$tmp/fifo-plugin.out" --quiet
plugin_refused "a FIFO as a plugin is refused at once" "$tmp/fifo-plugin.out" \
    "$tmp/fifo-plugin/formulas/x.lua: not a regular file"
# The refused runs left no lock behind: the next run just works.
rm -rf "$tmp/fifo-plugin/formulas/x.lua" "$tmp/fifo-plugin.out"
krun run "$tmp/fifo-plugin" --out "$tmp/fifo-plugin.out" --quiet
[ "$(rc)" = 0 ] && [ -f "$tmp/fifo-plugin.out/report.json" ] &&
    ok "a run after the refused ones is not blocked" || fail "run after FIFO: exit $(rc): $(cat "$tmp/last.stderr")"

# A folder named like a plugin is not read as an empty plugin.
dataset dir-plugin
mkdir "$tmp/dir-plugin/formulas/d.lua"
krun run "$tmp/dir-plugin" --out "$tmp/dir-plugin.out" --quiet
plugin_refused "a folder as a plugin is refused" "$tmp/dir-plugin.out" "formulas/d.lua: not a regular file"

# A plugin over the size limit is refused before it is read whole: 47
# bytes of code and "--", 1 MiB (1048576 bytes) of comment, a newline.
dataset big-plugin
{ printf 'return function(a, b) return a / b * 100 end\n--'
  head -c 1048576 /dev/zero | tr '\0' x; printf '\n'; } >"$tmp/big-plugin/formulas/big.lua"
krun run "$tmp/big-plugin" --out "$tmp/big-plugin.out" --quiet
plugin_refused "a plugin over 1 MiB is refused" "$tmp/big-plugin.out" \
    "formulas/big.lua: 1048624 bytes, more than the limit of 1048576 for a plugin file"

# --- symbolic links --------------------------------------------------------
# A plugin that is a link is refused, whatever it points at: /dev/zero
# (which grew memory until OOM) or a secret, whose content never appears.
dataset zero-plugin
ln -s /dev/zero "$tmp/zero-plugin/formulas/z.lua"
krun run "$tmp/zero-plugin" --out "$tmp/zero-plugin.out" --quiet
plugin_refused "a plugin linked to /dev/zero is refused" "$tmp/zero-plugin.out" \
    "formulas/z.lua: a symbolic link"
printf 'aws_secret_access_key = wJalrXUtnFEMI.K7MDENG\n' >"$tmp/secret.txt"
dataset secret-plugin
ln -s "$tmp/secret.txt" "$tmp/secret-plugin/formulas/s.lua"
krun run "$tmp/secret-plugin" --out "$tmp/secret-plugin.out" --quiet
plugin_refused "a plugin linked to a secret is refused" "$tmp/secret-plugin.out" "formulas/s.lua: a symbolic link"
! grep -rq wJalrXUtnFEMI "$tmp/last.stderr" "$tmp/last.stdout" "$tmp/secret-plugin.out" && ok "the secret is not echoed" ||
    fail "the linked file's content was echoed"
mkdir -p "$tmp/extra"
ln -s "$tmp/secret.txt" "$tmp/extra/t.lua"
dataset cli-plugin
krun run "$tmp/cli-plugin" --out "$tmp/cli-plugin.out" --formulas "$tmp/extra" --quiet
plugin_refused "a linked plugin in --formulas is refused" "$tmp/cli-plugin.out" "extra/t.lua: a symbolic link"
rm "$tmp/extra/t.lua"

# The CSVs inside a dataset are not followed either; the dataset folder
# itself may be a link (a volume mounted elsewhere, examples/cluster).
dataset link-csv
mv "$tmp/link-csv/actuals.csv" "$tmp/actuals-elsewhere.csv"
ln -s "$tmp/actuals-elsewhere.csv" "$tmp/link-csv/actuals.csv"
krun run "$tmp/link-csv" --out "$tmp/link-csv.out" --quiet
refused "a linked actuals.csv is refused" "$tmp/link-csv.out" "actuals.csv: a symbolic link"
dataset real-ds
ln -s "$tmp/real-ds" "$tmp/linked-ds"
krun run "$tmp/linked-ds" --out "$tmp/linked-ds.out" --quiet
[ "$(rc)" = 0 ] && ok "a linked dataset folder is read" || fail "linked dataset: exit $(rc): $(cat "$tmp/last.stderr")"

# A symlinked --out is refused (it was replaced by a real folder while the
# old report stayed at the target); the link and its target are untouched.
krun run "$tmp/real-ds" --out "$tmp/target" --quiet
ln -s "$tmp/target" "$tmp/out-link"
cp -r "$tmp/target" "$tmp/target.before"
for arg in "$tmp/out-link" "$tmp/out-link/"; do
    krun run "$tmp/real-ds" --out "$arg" --quiet
    [ "$(rc)" = 2 ] && has "out-link: a symbolic link" && has "real path" && [ -L "$tmp/out-link" ] &&
        same_tree "$tmp/target" "$tmp/target.before" && [ ! -e "$tmp/out-link.lock" ] &&
        ok "--out ${arg#"$tmp"/} (a link) is refused" ||
        fail "--out link: exit $(rc), link $( [ -L "$tmp/out-link" ] && echo kept || echo replaced): $(cat "$tmp/last.stderr")"
done

# --- a huge bad file is worded from a window (issue 9) --------------------
# 2 GB, sparse: a NUL on line 4. Under a 1 GB address space limit it can
# only be read a window at a time (skipped under ASan, which needs more).
dataset sparse
printf 'K1,extra,1\n' >>"$tmp/sparse/actuals.csv"
if truncate -s 2G "$tmp/sparse/actuals.csv" 2>/dev/null; then
    limit="ulimit -v 1048576;"
    if ldd "$bin" 2>/dev/null | grep -q asan; then limit=; fi
    timeout 20 bash -c "$limit exec \"\$0\" run \"\$1\" --out \"\$2\" --quiet" \
        "$bin" "$tmp/sparse" "$tmp/sparse.out" >"$tmp/last.stdout" 2>"$tmp/last.stderr" </dev/null
    echo $? >"$tmp/last.rc"
    refused "a 2 GB sparse file is worded in bounded memory" "$tmp/sparse.out" \
        "actuals.csv:5:1: NUL byte in the file"
    rm -f "$tmp/sparse/actuals.csv"
else
    echo "note: no sparse files here; skipped the 2 GB case"
fi

# --- the lock never clobbers a user's file (issue 11) ---------------------
dataset lockds
# A file of the user's own named OUT.lock.
echo important >"$tmp/keep.lock"
krun run "$tmp/lockds" --out "$tmp/keep" --quiet
[ "$(rc)" = 2 ] && [ "$(cat "$tmp/keep.lock")" = important ] && [ ! -e "$tmp/keep" ] &&
    has "keep.lock: cannot take the lock: a file kpieval did not write is in the way" &&
    has "move it away, or choose another output folder (see --out)" &&
    ok "a user's OUT.lock is refused and kept" ||
    fail "user's lock file: exit $(rc), now '$(cat "$tmp/keep.lock" 2>/dev/null)': $(cat "$tmp/last.stderr")"
# An empty one too: the run did not create it, so it is not removed.
: >"$tmp/empty.lock"
krun run "$tmp/lockds" --out "$tmp/empty" --quiet
[ "$(rc)" = 2 ] && [ -f "$tmp/empty.lock" ] && [ ! -s "$tmp/empty.lock" ] && [ ! -e "$tmp/empty" ] &&
    has "empty.lock: cannot take the lock: an empty file" &&
    ok "an empty OUT.lock is refused and kept" || fail "empty lock: exit $(rc): $(cat "$tmp/last.stderr")"
# A hard link to another file, even with a kpieval lock's content.
printf 'kpieval-lock 1\npid 999999, started 2026-01-01T00:00:00Z\n' >"$tmp/victim.txt"
cp "$tmp/victim.txt" "$tmp/victim.before"
ln "$tmp/victim.txt" "$tmp/h.lock"
krun run "$tmp/lockds" --out "$tmp/h" --quiet
[ "$(rc)" = 2 ] && cmp -s "$tmp/victim.txt" "$tmp/victim.before" && [ -e "$tmp/h.lock" ] &&
    [ ! -e "$tmp/h" ] && has "h.lock: cannot take the lock: a hard link" &&
    ok "a hard-linked OUT.lock is refused, the victim kept" ||
    fail "hard link: exit $(rc), victim '$(cat "$tmp/victim.txt")': $(cat "$tmp/last.stderr")"
# A symbolic link.
ln -s "$tmp/victim.txt" "$tmp/s.lock"
krun run "$tmp/lockds" --out "$tmp/s" --quiet
[ "$(rc)" = 2 ] && cmp -s "$tmp/victim.txt" "$tmp/victim.before" && [ -L "$tmp/s.lock" ] &&
    [ ! -e "$tmp/s" ] && has "s.lock: cannot take the lock: a symbolic link" &&
    ok "a symlinked OUT.lock is refused, its target kept" ||
    fail "symlinked lock: exit $(rc): $(cat "$tmp/last.stderr")"
# A FIFO: refused at once, not opened for writing.
mkfifo "$tmp/f.lock"
krun run "$tmp/lockds" --out "$tmp/f" --quiet
[ "$(rc)" = 2 ] && [ -p "$tmp/f.lock" ] && [ ! -e "$tmp/f" ] &&
    has "f.lock: cannot take the lock: a FIFO, socket or device is in the way" &&
    ok "a FIFO as OUT.lock is refused" || fail "FIFO lock: exit $(rc): $(cat "$tmp/last.stderr")"
# The lock of a killed run (kpieval's own content, nobody holding it) is
# taken over, in this format and in that of earlier versions.
for content in 'kpieval-lock 1\npid 999999, started 2026-01-01T00:00:00Z\n' \
    'pid 999999, started 2026-01-01T00:00:00Z\n'; do
    printf "$content" >"$tmp/stale.lock"
    krun run "$tmp/lockds" --out "$tmp/stale" --quiet
    [ "$(rc)" = 0 ] && [ -f "$tmp/stale/report.json" ] && [ ! -e "$tmp/stale.lock" ] &&
        ok "a stale kpieval lock is taken over ($(printf "$content" | head -1))" ||
        fail "stale lock: exit $(rc): $(cat "$tmp/last.stderr")"
done

# A lock file over 128 bytes is no lock kpieval wrote, whatever it starts with.
{ printf 'kpieval-lock 1\npid 999999, started 2026-01-01T00:00:00Z\n'; head -c 200 /dev/zero | tr '\0' x; } >"$tmp/long.lock"
cp "$tmp/long.lock" "$tmp/long.before"
krun run "$tmp/lockds" --out "$tmp/long" --quiet
[ "$(rc)" = 2 ] && cmp -s "$tmp/long.lock" "$tmp/long.before" && has "a file kpieval did not write" &&
    ok "a long file as OUT.lock is refused and kept" || fail "long lock: exit $(rc): $(cat "$tmp/last.stderr")"

# Without O_TMPFILE (NFS; the shim makes it fail) the lock is made under
# OUT.lock.XXXXXX and linked: it works, leaves nothing, and a run killed
# between the link and the unlink (the shim's knob) leaves a lock file
# with two names that the next run takes over, removing both.
shim=${2:-}
if [ -n "$shim" ]; then
    LD_PRELOAD=$shim krun run "$tmp/lockds" --out "$tmp/nfs" --quiet
    [ "$(rc)" = 0 ] && [ -f "$tmp/nfs/report.json" ] && [ -z "$(ls "$tmp" | grep '^nfs\.lock')" ] &&
        ok "the lock without O_TMPFILE" || fail "lock without O_TMPFILE: exit $(rc): $(cat "$tmp/last.stderr")"
    KPIEVAL_TEST_DIE_AFTER_LINK=1 LD_PRELOAD=$shim krun run "$tmp/lockds" --out "$tmp/nfs2" --quiet
    twins=$(ls "$tmp" | grep -c '^nfs2\.lock\.')
    [ "$(rc)" = 9 ] && [ -f "$tmp/nfs2.lock" ] && [ "$twins" = 1 ] ||
        fail "the shim's kill after link: exit $(rc), $twins twin(s)"
    LD_PRELOAD=$shim krun run "$tmp/lockds" --out "$tmp/nfs2" --quiet
    [ "$(rc)" = 0 ] && [ -f "$tmp/nfs2/report.json" ] && [ -z "$(ls "$tmp" | grep '^nfs2\.lock')" ] &&
        ok "a lock left with two names by a killed run is taken over" ||
        fail "two-name lock of a killed run: exit $(rc): $(cat "$tmp/last.stderr")"
else
    echo "note: no O_TMPFILE shim (sanitizer build): the NFS lock path is not tried"
fi

# At the end a run removes only the lock it made: one replaced meanwhile
# stays. The run is stopped (SIGSTOP) while it holds the lock.
"$bin" generate 3000 "$tmp/slow" --seed 5 >/dev/null || fail "generate"
"$bin" run "$tmp/slow" --out "$tmp/mine" --quiet --jobs 1 >/dev/null 2>&1 &
runner=$!
for _ in $(seq 500); do
    [ -s "$tmp/mine.lock" ] && kill -STOP "$runner" 2>/dev/null && break
    sleep 0.01
done
if [ -s "$tmp/mine.lock" ] && kill -0 "$runner" 2>/dev/null; then
    grep -q "pid $runner" "$tmp/mine.lock" || fail "the lock does not name pid $runner: $(cat "$tmp/mine.lock")"
    mv "$tmp/mine.lock" "$tmp/mine.lock.moved"
    echo "someone else's" >"$tmp/mine.lock"
    kill -CONT "$runner"
    wait "$runner"
    [ "$(cat "$tmp/mine.lock" 2>/dev/null)" = "someone else's" ] &&
        ok "a run removes only the lock file it created" ||
        fail "the replaced lock file was removed or changed"
else
    kill -CONT "$runner" 2>/dev/null
    wait "$runner"
    echo "note: the run finished before its lock was seen; replaced-lock case skipped"
fi

# The dataset's formulas folder as a link to a folder: refused, and the
# content of the files there never quoted.
mkdir -p "$tmp/private"
printf 'x = "wJalrXUtnFEMI\n' >"$tmp/private/conf.lua"
dataset linked-formulas
rmdir "$tmp/linked-formulas/formulas" && ln -s "$tmp/private" "$tmp/linked-formulas/formulas"
krun run "$tmp/linked-formulas" --out "$tmp/linked-formulas.out" --quiet
refused "a dataset's formulas folder that is a link is refused" "$tmp/linked-formulas.out" \
    "linked-formulas/formulas: a symbolic link"
has wJalrXUtnFEMI && fail "a linked formulas folder: a file's content was quoted"

# --- kpieval merge reads the parts' models only, as regular files ---------
"$bin" generate 40 "$tmp/sh" --seed 6 >/dev/null || fail "generate"
for i in 1 2; do "$bin" run "$tmp/sh" --out "$tmp/part$i" --shard "$i/2" --quiet >/dev/null 2>&1; done
krun merge "$tmp/merged" "$tmp/part1" "$tmp/part2"
[ "$(rc)" = 1 ] || fail "merge of the plain parts: exit $(rc): $(cat "$tmp/last.stderr")"
cp -r "$tmp/part2" "$tmp/part2-shard"
rm "$tmp/part2-shard/shard.txt" && mkfifo "$tmp/part2-shard/shard.txt"
krun merge "$tmp/merged-shard" "$tmp/part1" "$tmp/part2-shard"
refused "merge: a FIFO as a part's shard.txt is refused at once" "$tmp/merged-shard" \
    "part2-shard/shard.txt: not a regular file"
cp -r "$tmp/part2" "$tmp/part2-link"
ln -sf "$tmp/part2/shard.txt" "$tmp/part2-link/shard.txt"
krun merge "$tmp/merged-link" "$tmp/part1" "$tmp/part2-link"
refused "merge: a symlinked shard.txt is refused" "$tmp/merged-link" \
    "part2-link/shard.txt: a symbolic link"
# The parts' other files are never opened: a FIFO or a link to a secret
# there neither blocks the merge nor reaches its report.
dep=$(ls "$tmp/part2/departments" | head -1)
cp -r "$tmp/part2" "$tmp/part2-other"
rm "$tmp/part2-other/kpis.csv" && mkfifo "$tmp/part2-other/kpis.csv"
rm "$tmp/part2-other/departments/$dep" && ln -s "$tmp/secret.txt" "$tmp/part2-other/departments/$dep"
krun merge "$tmp/merged-other" "$tmp/part1" "$tmp/part2-other"
if [ "$(rc)" = 1 ] && same_report "$tmp/merged" "$tmp/merged-other" &&
    ! grep -rq wJalrXUtnFEMI "$tmp/merged-other"; then
    ok "merge: a part's FIFO and linked files are never read"
else
    fail "merge with a FIFO and a link among the part's files: exit $(rc): $(cat "$tmp/last.stderr")"
fi

finish
