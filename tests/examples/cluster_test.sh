#!/usr/bin/env bash
# examples/cluster: the sharded runs give the same report as one machine.
#
# First what needs no sharding in kpieval: the Kubernetes Jobs parse, agree
# on the shard count, and their commands (run through /bin/sh with a stub
# kpieval) ask for shards 1/N .. N/N and merge exactly those parts;
# submit-slurm.sh (with a stub sbatch) submits the array and an afterok
# merge; the Slurm shard script refuses a bad task number. Then, with the
# real kpieval: the Slurm scripts run as plain bash for 3 shards, the merge
# script, and every file of the merged report compared byte for byte with a
# single `kpieval run` (a generated plan of several top-level departments,
# and datasets/seoul-2019, whose one top-level department leaves two of the
# three shards empty); the Kubernetes commands likewise for their 4 shards.
# That part needs `kpieval run --shard` and `kpieval merge`, and says so
# when the binary lacks them.
#
# usage: cluster_test.sh KPIEVAL SOURCE_DIR
set -euo pipefail
bin=$(realpath "$1") src=$(realpath "$2")
dir=$src/examples/cluster
tmp=$(mktemp -d)
. "$(dirname "$0")/../batch/same_report.sh"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$bin" ] || fail "kpieval binary '$bin' is not executable"
for f in k8s-job.yaml k8s-merge-job.yaml slurm-shards.sbatch slurm-merge.sbatch submit-slurm.sh; do
    [ -f "$dir/$f" ] || fail "examples/cluster/$f is missing"
done

# A stub kpieval: appends its arguments, one line per call, to $STUB_LOG.
mkdir "$tmp/stub"
cat >"$tmp/stub/kpieval" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$STUB_LOG"
STUB
chmod +x "$tmp/stub/kpieval"

# ---- Kubernetes ---------------------------------------------------------------

# Prints SHARDS, then the shard Job's command and the merge Job's command
# (NUL-separated), after checking the Jobs' structure.
k8s_commands() {
    python3 - "$dir/k8s-job.yaml" "$dir/k8s-merge-job.yaml" <<'PY'
import sys
import yaml

def job(path):
    docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
    jobs = [d for d in docs if d.get("kind") == "Job"]
    if len(jobs) != 1:
        sys.exit("%s: expected one Job, found %d" % (path, len(jobs)))
    j = jobs[0]
    if j.get("apiVersion") != "batch/v1":
        sys.exit("%s: apiVersion %r, expected batch/v1" % (path, j.get("apiVersion")))
    pod = j["spec"]["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        sys.exit("%s: restartPolicy must be Never (a retried pod is a new pod)" % path)
    containers = [c for c in pod["containers"] if "kpieval" in " ".join(c.get("command", []) + c.get("args", []))]
    if len(containers) != 1:
        sys.exit("%s: expected one container running kpieval" % path)
    c = containers[0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    if c.get("command", [])[:2] != ["/bin/sh", "-c"] or len(c.get("args", [])) != 1:
        sys.exit("%s: expected command [/bin/sh, -c] and one args script" % path)
    return j, env, c["args"][0]

shards_job, shards_env, shards_cmd = job(sys.argv[1])
merge_job, merge_env, merge_cmd = job(sys.argv[2])
spec = shards_job["spec"]
if spec.get("completionMode") != "Indexed":
    sys.exit("k8s-job.yaml: completionMode is %r, expected Indexed" % spec.get("completionMode"))
n = spec.get("completions")
if not isinstance(n, int) or n < 1:
    sys.exit("k8s-job.yaml: completions %r" % n)
if not isinstance(spec.get("parallelism"), int) or not 1 <= spec["parallelism"] <= n:
    sys.exit("k8s-job.yaml: parallelism %r, expected 1 .. completions (%d)" % (spec.get("parallelism"), n))
for name, env in (("k8s-job.yaml", shards_env), ("k8s-merge-job.yaml", merge_env)):
    if env.get("SHARDS") != str(n):
        sys.exit("%s: SHARDS=%r, but the shards Job has completions: %d" % (name, env.get("SHARDS"), n))
if "JOB_COMPLETION_INDEX" not in shards_cmd:
    sys.exit("k8s-job.yaml: the command does not use JOB_COMPLETION_INDEX")
sys.stdout.write("%d\0%s\0%s" % (n, shards_cmd, merge_cmd))
PY
}

if python3 -c 'import yaml' 2>/dev/null; then
    k8s_commands >"$tmp/k8s" || fail "the Kubernetes Jobs: see above"
    { IFS= read -r -d '' k8s_n; IFS= read -r -d '' k8s_shard_cmd; IFS= read -r -d '' k8s_merge_cmd || true; } <"$tmp/k8s"
    # The commands with /data and /reports moved under $tmp/k8s-root.
    k8s_local() { sed -e "s#/data/#$tmp/k8s-root/data/#g" -e "s#/reports/#$tmp/k8s-root/reports/#g" <<<"$1"; }
    : >"$tmp/stub.log"
    for ((i = 0; i < k8s_n; i++)); do
        JOB_COMPLETION_INDEX=$i SHARDS=$k8s_n STUB_LOG=$tmp/stub.log PATH="$tmp/stub:$PATH" \
            /bin/sh -c "$(k8s_local "$k8s_shard_cmd")" || fail "k8s-job.yaml: the command failed for index $i"
    done
    for ((i = 1; i <= k8s_n; i++)); do
        line=$(sed -n "${i}p" "$tmp/stub.log")
        [[ " $line " == *" --shard $i/$k8s_n "* ]] ||
            fail "k8s-job.yaml: index $((i - 1)) ran 'kpieval $line', expected --shard $i/$k8s_n"
        [[ " $line " == *" --out $tmp/k8s-root/reports/parts/shard-$i-of-$k8s_n "* ]] ||
            fail "k8s-job.yaml: index $((i - 1)) ran 'kpieval $line', expected --out /reports/parts/shard-$i-of-$k8s_n"
        mkdir -p "$tmp/k8s-root/reports/parts/shard-$i-of-$k8s_n"
        echo '{}' >"$tmp/k8s-root/reports/parts/shard-$i-of-$k8s_n/report.json"
    done
    : >"$tmp/stub.log"
    SHARDS=$k8s_n STUB_LOG=$tmp/stub.log PATH="$tmp/stub:$PATH" /bin/sh -c "$(k8s_local "$k8s_merge_cmd")" ||
        fail "k8s-merge-job.yaml: the command failed"
    want="merge $tmp/k8s-root/reports/report"
    for ((i = 1; i <= k8s_n; i++)); do want+=" $tmp/k8s-root/reports/parts/shard-$i-of-$k8s_n"; done
    [ "$(cat "$tmp/stub.log")" = "$want" ] ||
        fail "k8s-merge-job.yaml: ran 'kpieval $(cat "$tmp/stub.log")', expected 'kpieval ${want}'"
    rm "$tmp/k8s-root/reports/parts/shard-2-of-$k8s_n/report.json"
    : >"$tmp/stub.log"
    rc=0
    SHARDS=$k8s_n STUB_LOG=$tmp/stub.log PATH="$tmp/stub:$PATH" /bin/sh -c "$(k8s_local "$k8s_merge_cmd")" \
        2>/dev/null || rc=$?
    if [ "$rc" != 2 ] || [ -s "$tmp/stub.log" ]; then
        fail "k8s-merge-job.yaml: merged with a part missing (exit $rc)"
    fi
    echo "kubernetes: $k8s_n indexed pods run --shard 1/$k8s_n .. $k8s_n/$k8s_n, the merge takes those parts; passed"
else
    # No PyYAML: the basic facts, by text.
    grep -q '^  completionMode: Indexed$' "$dir/k8s-job.yaml" || fail "k8s-job.yaml: no completionMode: Indexed"
    k8s_n=$(sed -n 's/^  completions: \([0-9]*\)$/\1/p' "$dir/k8s-job.yaml")
    [ -n "$k8s_n" ] || fail "k8s-job.yaml: no completions"
    grep -q "value: \"$k8s_n\"" "$dir/k8s-job.yaml" || fail "k8s-job.yaml: SHARDS is not $k8s_n"
    # shellcheck disable=SC2016 # the YAML holds these shell expressions literally
    grep -q 'shard=$((JOB_COMPLETION_INDEX + 1))' "$dir/k8s-job.yaml" || fail "k8s-job.yaml: no shard=\$((JOB_COMPLETION_INDEX + 1))"
    # shellcheck disable=SC2016
    grep -q -- '--shard "$shard/$SHARDS"' "$dir/k8s-job.yaml" || fail "k8s-job.yaml: no --shard \"\$shard/\$SHARDS\""
    k8s_n=""
    echo "kubernetes: python3 has no yaml module; checked by text only; passed"
fi

# ---- Slurm: submission and task numbers, no kpieval needed ------------------------

mkdir "$tmp/sbin"
cat >"$tmp/sbin/sbatch" <<'STUB'
#!/usr/bin/env bash
# A stub sbatch: records its arguments, answers job ids 1001, 1002 ...
n=$(($(wc -l <"$SBATCH_LOG") + 1001))
echo "$*" >>"$SBATCH_LOG"
echo "$n;cluster1"
STUB
chmod +x "$tmp/sbin/sbatch"
: >"$tmp/sbatch.log"
SBATCH_LOG=$tmp/sbatch.log DATASET=/shared/plan WORK=/shared/work PATH="$tmp/sbin:$PATH" \
    bash "$dir/submit-slurm.sh" 3 >"$tmp/submit.out" || fail "submit-slurm.sh 3 failed"
[ "$(wc -l <"$tmp/sbatch.log")" = 2 ] || fail "submit-slurm.sh: expected two sbatch calls: $(cat "$tmp/sbatch.log")"
first=$(sed -n 1p "$tmp/sbatch.log") second=$(sed -n 2p "$tmp/sbatch.log")
[[ $first == *"--array=1-3 "* && $first == *"/slurm-shards.sbatch" ]] ||
    fail "submit-slurm.sh: the first sbatch is not the 1-3 array of slurm-shards.sbatch: $first"
[[ $second == *"--dependency=afterok:1001 "* && $second == *"SHARDS=3"* && $second == *"/slurm-merge.sbatch" ]] ||
    fail "submit-slurm.sh: the second sbatch is not the merge after job 1001 with SHARDS=3: $second"
rc=0
PATH="$tmp/sbin:$PATH" SBATCH_LOG=$tmp/sbatch.log env -u DATASET bash "$dir/submit-slurm.sh" 3 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "submit-slurm.sh without DATASET: exit $rc, expected 2"

shard_script() { # VAR=value ...: runs slurm-shards.sbatch as a plain script; sets rc
    rc=0
    env KPIEVAL="$bin" DATASET="$src/datasets/seoul-2019" WORK="$tmp/bad-work" "$@" \
        bash "$dir/slurm-shards.sbatch" >"$tmp/shard.out" 2>&1 || rc=$?
}
for bad in "SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=3" "SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=3" \
    "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0" "SLURM_ARRAY_TASK_COUNT=3" \
    "SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=3" "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_STEP=2" \
    "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 WORK=" "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 DATASET="; do
    read -r -a vars <<<"$bad"
    shard_script "${vars[@]}"
    [ "$rc" = 2 ] || fail "slurm-shards.sbatch with $bad: exit $rc, expected 2: $(cat "$tmp/shard.out")"
    [ ! -e "$tmp/bad-work/parts/shard-4-of-3" ] || fail "slurm-shards.sbatch with $bad: wrote a part"
done
# --array=0-2 numbers tasks from 0: task 0 is shard 1 (checked through the stub).
: >"$tmp/stub.log"
shard_script SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=3 SLURM_CPUS_PER_TASK=2 \
    KPIEVAL="$tmp/stub/kpieval" STUB_LOG="$tmp/stub.log" DATASET=/shared/plan WORK=/shared/work
[ "$rc" = 0 ] || fail "slurm-shards.sbatch, task 0 of --array=0-2: exit $rc: $(cat "$tmp/shard.out")"
[ "$(cat "$tmp/stub.log")" = "run /shared/plan --out /shared/work/parts/shard-1-of-3 --shard 1/3 --jobs 2 --quiet" ] ||
    fail "slurm-shards.sbatch, task 0 of --array=0-2 ran: kpieval $(cat "$tmp/stub.log")"
rm -rf "$tmp/bad-work"
rc=0
SHARDS=3 WORK=$tmp/empty-work KPIEVAL=$tmp/stub/kpieval STUB_LOG=$tmp/stub.log bash "$dir/slurm-merge.sbatch" \
    >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "slurm-merge.sbatch without parts: exit $rc, expected 2"
echo "slurm: submission (array, then afterok merge) and task numbering; passed"

# ---- the real thing: shards and merge against one machine --------------------------

# Does this kpieval shard and merge at all? Say so plainly when it does not.
probe=$src/datasets/seoul-2019
rc=0
"$bin" run "$probe" --out "$tmp/probe-part" --shard 1/1 --quiet >/dev/null 2>"$tmp/probe.err" || rc=$?
if [ "$rc" -ge 2 ]; then
    if grep -q "unknown option '--shard'" "$tmp/probe.err"; then
        fail "kpieval does not support --shard yet ($(head -1 "$tmp/probe.err")); the shard/merge comparison cannot run"
    fi
    fail "kpieval run --shard 1/1 exited $rc: $(head -3 "$tmp/probe.err")"
fi
rc=0
"$bin" merge "$tmp/probe-merged" "$tmp/probe-part" >/dev/null 2>"$tmp/probe.err" || rc=$?
if [ "$rc" -ge 2 ]; then
    if grep -q "unknown command 'merge'" "$tmp/probe.err"; then
        fail "kpieval does not support merge yet ($(head -1 "$tmp/probe.err")); the shard/merge comparison cannot run"
    fi
    fail "kpieval merge OUT PART (one part of --shard 1/1) exited $rc: $(head -3 "$tmp/probe.err")"
fi
"$bin" run "$probe" --out "$tmp/probe-single" --quiet >/dev/null 2>&1 || true
same_report "$tmp/probe-single" "$tmp/probe-merged" ||
    fail "--shard 1/1 then merge differs from a single run: $(head -20 "$tmp/diff.out")"
echo "one shard (--shard 1/1), merged: identical to a single run; passed"

"$bin" generate 5000 "$tmp/plan" --seed 11 >/dev/null
shards=3
compare() { # name, single report, merged report
    same_report "$2" "$3" ||
        fail "$1: the merged report differs from a single run: $(head -20 "$tmp/diff.out")"
    local files
    files=$(find "$3" -type f | wc -l)
    [ "$files" -ge 4 ] || fail "$1: the merged report has only $files files"
    echo "$1: merged report identical to a single run ($files files); passed"
}
for ds in "$tmp/plan" "$src/datasets/seoul-2019"; do
    name=slurm-${shards}-shards-$(basename "$ds")
    single_rc=0
    "$bin" run "$ds" --out "$tmp/$name.single" --quiet >/dev/null 2>&1 || single_rc=$?
    [ "$single_rc" -le 1 ] || fail "$name: the single run exited $single_rc"
    for ((i = 1; i <= shards; i++)); do
        rc=0
        env SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$shards KPIEVAL="$bin" DATASET="$ds" WORK="$tmp/$name.work" \
            bash "$dir/slurm-shards.sbatch" >"$tmp/shard.out" 2>&1 || rc=$?
        [ "$rc" = 0 ] || fail "$name: shard $i/$shards exited $rc: $(tail -5 "$tmp/shard.out")"
        [ -f "$tmp/$name.work/parts/shard-$i-of-$shards/report.json" ] || fail "$name: shard $i wrote no part"
    done
    rc=0
    env SHARDS=$shards KPIEVAL="$bin" WORK="$tmp/$name.work" bash "$dir/slurm-merge.sbatch" >"$tmp/merge.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || fail "$name: the merge exited $rc: $(tail -5 "$tmp/merge.out")"
    compare "$name" "$tmp/$name.single" "$tmp/$name.work/report"
    # The generated plan has more top-level departments than shards: each
    # part holds a different share of them, not the whole report.
    if [ "$ds" = "$tmp/plan" ] && diff -r "$tmp/$name.work/parts/shard-1-of-3" "$tmp/$name.work/parts/shard-2-of-3" >/dev/null; then
        fail "$name: shards 1 and 2 wrote identical parts; a shard must hold only its own departments"
    fi
    parts=()
    for ((i = 1; i <= shards; i++)); do parts+=("$tmp/$name.work/parts/shard-$i-of-$shards"); done
    merge_rc=0
    "$bin" merge "$tmp/$name.again" "${parts[@]}" >/dev/null 2>&1 || merge_rc=$?
    [ "$merge_rc" = "$single_rc" ] ||
        echo "note: $name: kpieval merge exited $merge_rc where the single run exited $single_rc"
done

# The Kubernetes commands, for real: /data/plan is the generated plan.
if [ -n "$k8s_n" ]; then
    mkdir -p "$tmp/k8s-real/data" "$tmp/bin"
    ln -s "$tmp/plan" "$tmp/k8s-real/data/plan"
    ln -s "$bin" "$tmp/bin/kpieval"
    k8s_real() { sed -e "s#/data/#$tmp/k8s-real/data/#g" -e "s#/reports/#$tmp/k8s-real/reports/#g" <<<"$1"; }
    for ((i = 0; i < k8s_n; i++)); do
        JOB_COMPLETION_INDEX=$i SHARDS=$k8s_n PATH="$tmp/bin:$PATH" /bin/sh -c "$(k8s_real "$k8s_shard_cmd")" \
            >"$tmp/k8s.out" 2>&1 || fail "k8s-job.yaml: index $i failed: $(tail -5 "$tmp/k8s.out")"
    done
    SHARDS=$k8s_n PATH="$tmp/bin:$PATH" /bin/sh -c "$(k8s_real "$k8s_merge_cmd")" >"$tmp/k8s.out" 2>&1 ||
        fail "k8s-merge-job.yaml failed: $(tail -5 "$tmp/k8s.out")"
    "$bin" run "$tmp/k8s-real/data/plan" --out "$tmp/k8s-single" --quiet >/dev/null 2>&1 || true
    compare "k8s-$k8s_n-shards-plan" "$tmp/k8s-single" "$tmp/k8s-real/reports/report"
fi
echo "cluster: all passed"
