#!/usr/bin/env bash
# Allocation fault injection: fail the N-th allocation for N = 1, 2, ...
# until a run in which no failure was injected, and check that every run
# ends in success or a clean error (SQLite's OOM fault tests).
#
#   tests/fault/run_fault.sh KPIEVAL_BINARY DATASET [KPIEVAL_OPTION]...
#
# Runs `kpieval run DATASET --out OUT [OPTION]...` under failalloc.so
# (LD_PRELOAD). For every N the run must:
#   - not die from a signal, hang (60 s) or exit with anything but 0, 1, 2;
#   - on exit 2: print exactly one stderr line, 'kpieval: error: ...', and
#     nothing on stdout, and leave nothing beside OUT (no OUT, no
#     OUT.tmp-*, no OUT.old-*);
#   - on exit 0 or 1: exit as the run without injection does, print the same
#     stdout and stderr, and write a report byte-identical to it.
#
# Passes, each a full N = 1, 2, ... loop (KPIEVAL_FAULT_PASSES, space
# separated; default "in-process workers"):
#   in-process        --in-process: every allocation of the evaluation
#   workers           default mode; only the supervising parent's
#                     allocations fail (its workers allocate normally)
#   workers-children  default mode; only the workers' allocations fail, each
#                     worker counting from its fork
# A kpieval without --in-process (no worker processes) gets one pass,
# "single", with no extra option.
#
# Environment:
#   KPIEVAL_FAILALLOC      path of failalloc.so; without it the shim is
#                          compiled into the temporary folder with cc
#   KPIEVAL_FAULT_PASSES   the passes to run (see above)
#   KPIEVAL_FAULT_PERSIST  1: also run each pass with persistent failure
#                          (the N-th and every later allocation fail);
#                          0: one-shot only; default 1
#   KPIEVAL_FAULT_MAX      stop a pass at this N (default 100000)
#   KPIEVAL_FAULT_KEEP     a folder: keep the artifacts of failing N there
#   KPIEVAL_FAULT_TMPDIR   where OUT goes (default /dev/shm when writable,
#                          else TMPDIR): kpieval's syncfs is cheap on tmpfs
#   KPIEVAL_FAULT_VERBOSE  1: print every N's exit status and first stderr line
#   KPIEVAL_FAULT_BACKTRACES  at most this many gdb backtraces (default 10)
#
# Exit 0 when every run passes, 1 when some failed (each failure printed
# with N, what went wrong, the command to reproduce it and, for a crash, a
# gdb backtrace), 3 for a usage error, 77 for skipped: KPIEVAL_FAULT_SKIP
# set (it says why), KPIEVAL_TEST_WRAPPER set (valgrind) or a binary built
# with ASan, whose allocators a malloc shim cannot be preloaded under.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 KPIEVAL_BINARY DATASET [KPIEVAL_OPTION]..." >&2
    exit 3
fi
bin=$1 dataset=$2
shift 2
extra=("$@")
case "$bin" in
    */*) bin=$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin") ;;
esac
if [ ! -x "$bin" ]; then
    echo "run_fault: kpieval binary '$bin' not found or not executable" >&2
    exit 3
fi
if [ ! -d "$dataset" ]; then
    echo "run_fault: no dataset folder '$dataset'" >&2
    exit 3
fi
dataset=$(cd "$dataset" && pwd -P)
here=$(cd "$(dirname "$0")" && pwd -P)

# A sanitizer build or valgrind has its own allocator; the shim would
# fight it.
if [ -n "${KPIEVAL_FAULT_SKIP:-}" ]; then
    echo "run_fault: skipped: $KPIEVAL_FAULT_SKIP"
    exit 77
elif [ -n "${KPIEVAL_TEST_WRAPPER:-}" ]; then
    echo "run_fault: skipped under KPIEVAL_TEST_WRAPPER ($KPIEVAL_TEST_WRAPPER)"
    exit 77
elif grep -aq -m1 '__asan_init' "$bin" 2>/dev/null; then
    echo "run_fault: skipped: $bin is built with AddressSanitizer"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpieval-fault.XXXXXX") || exit 3
# The reports go to a RAM file system when there is one: kpieval syncs the
# file system after each report (syncfs), nearly free on tmpfs, and most
# of the loop's time on a disk.
scratch=$tmp
if [ -z "${KPIEVAL_FAULT_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    KPIEVAL_FAULT_TMPDIR=/dev/shm
fi
if [ -n "${KPIEVAL_FAULT_TMPDIR:-}" ]; then
    scratch=$(mktemp -d "$KPIEVAL_FAULT_TMPDIR/kpieval-fault.XXXXXX") || exit 3
fi
trap 'rm -rf "$tmp" "$scratch"' EXIT

shim=${KPIEVAL_FAILALLOC:-}
if [ -z "$shim" ]; then
    shim=$tmp/failalloc.so
    ${CC:-cc} -std=c11 -O2 -g -fPIC -shared -o "$shim" "$here/failalloc.c" -ldl || exit 3
fi
case "$shim" in
    /*) ;;
    *) shim=$(cd "$(dirname "$shim")" && pwd -P)/$(basename "$shim") ;;
esac
if [ ! -f "$shim" ]; then
    echo "run_fault: no shim '$shim'" >&2
    exit 3
fi

max_n=${KPIEVAL_FAULT_MAX:-100000}
keep=${KPIEVAL_FAULT_KEEP:-}
verbose=${KPIEVAL_FAULT_VERBOSE:-}
max_backtraces=${KPIEVAL_FAULT_BACKTRACES:-10}
if "$bin" help 2>&1 | grep -q -- '--in-process'; then
    passes=${KPIEVAL_FAULT_PASSES:-in-process workers}
else
    echo "run_fault: $bin has no --in-process (no worker processes): one pass"
    passes=single
fi
persist_modes="0"
[ "${KPIEVAL_FAULT_PERSIST:-1}" = 1 ] && persist_modes="0 1"

ulimit -c 0 2>/dev/null
# The loop runs thousands of times: builtins over external commands.
shopt -s nullglob dotglob
work=$scratch/work
out=$work/out
ref=$scratch/ref
failures=0
backtraces=0
log='' err='' got='' ref_stdout='' ref_stderr='' # filled by slurp

# slurp VAR FILE: the whole file into VAR, without a subshell.
slurp() {
    IFS= read -r -d '' "$1" <"$2" || :
}

# run_one N SCOPE PERSIST ARGS...: runs kpieval in an empty $work with the
# shim; leaves rc, $tmp/stdout, $tmp/stderr, $tmp/log and in left the
# entries of $work afterwards.
run_one() {
    local n=$1 scope=$2 persist=$3
    shift 3
    left=("$work"/*)
    [ ${#left[@]} -gt 0 ] && rm -rf "${left[@]}"
    : >"$tmp/log"
    # timeout and env start without the shim; env execs kpieval with it.
    # The braces keep bash's own "Aborted" notice off the output.
    {
        timeout -k 5 60 env LD_PRELOAD="$shim" KPIEVAL_FAIL_ALLOC="$n" \
            KPIEVAL_FAIL_ALLOC_SCOPE="$scope" KPIEVAL_FAIL_ALLOC_PERSIST="$persist" \
            KPIEVAL_FAIL_ALLOC_LOG="$tmp/log" "$bin" "$@" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
        rc=$?
    } 2>/dev/null
    left=("$work"/*)
    left=("${left[@]#"$work"/}")
}

backtrace() {
    local n=$1 scope=$2 persist=$3
    shift 3
    local follow=parent
    [ "$scope" = children ] && follow=child
    command -v gdb >/dev/null 2>&1 || { echo "    (no gdb for a backtrace)"; return; }
    rm -rf "${work:?}"/*
    timeout 120 gdb -q -batch -nx \
        -ex 'set startup-with-shell off' -ex "set follow-fork-mode $follow" \
        -ex "set environment LD_PRELOAD=$shim" -ex "set environment KPIEVAL_FAIL_ALLOC=$n" \
        -ex "set environment KPIEVAL_FAIL_ALLOC_SCOPE=$scope" \
        -ex "set environment KPIEVAL_FAIL_ALLOC_PERSIST=$persist" \
        -ex run -ex bt -ex 'info registers rip' \
        --args "$bin" "$@" </dev/null 2>&1 |
        grep -vE '^\[(Thread|Inferior|Detaching|New)|^Using host libthread_db' |
        sed 's/^/    /' | head -60
}

# fail N SCOPE PERSIST WHAT ARGS...: reports one failing run.
fail() {
    local n=$1 scope=$2 persist=$3 what=$4
    shift 4
    failures=$((failures + 1))
    printf 'FAIL %s N=%s%s: %s\n' "$pass" "$n" "$([ "$persist" = 1 ] && echo ' (persistent)')" "$what"
    # The first failures in full; then one line each.
    [ "$failures" -gt 20 ] && return
    printf '    reproduce: LD_PRELOAD=%q KPIEVAL_FAIL_ALLOC=%s KPIEVAL_FAIL_ALLOC_SCOPE=%s KPIEVAL_FAIL_ALLOC_PERSIST=%s' \
        "$shim" "$n" "$scope" "$persist"
    printf ' %q' "$bin" "$@"
    printf '\n'
    printf '    exit %s; stderr:\n' "$rc"
    head -c 1500 "$tmp/stderr" | sed 's/^/    | /'
    sed 's/^/    shim: /' "$tmp/log" 2>/dev/null
    if [ -n "$keep" ]; then
        local dir=$keep/$pass-$persist-$n
        mkdir -p "$dir" && cp -a "$work" "$tmp/stdout" "$tmp/stderr" "$tmp/log" "$dir/" 2>/dev/null
    fi
}

# True when the report equals the one written without injection.
same_report() {
    diff -r "$ref/out" "$out" >"$tmp/tree.diff" 2>&1
}

# The reports of two runs of one command differ only in the times of their
# provenance: fixed here (docs/formats.md, SOURCE_DATE_EPOCH), so that a
# run under injection is compared with the reference byte for byte.
export SOURCE_DATE_EPOCH=1700000000
start=$SECONDS
mkdir "$work"
for pass in $passes; do
    args=(run "$dataset" --out "$out" "${extra[@]}")
    scope=main
    case "$pass" in
        single) ;;
        in-process) args+=(--in-process) ;;
        workers) ;;
        workers-children) scope=children ;;
        *) echo "run_fault: unknown pass '$pass'" >&2; exit 3 ;;
    esac

    # The reference: the same command without injection.
    run_one 0 "$scope" 0 "${args[@]}"
    ref_rc=$rc
    if [ "$ref_rc" != 0 ] && [ "$ref_rc" != 1 ]; then
        echo "run_fault: $pass: the run without injection exits $ref_rc, not 0 or 1:" >&2
        cat "$tmp/stderr" >&2
        exit 3
    fi
    rm -rf "$ref"
    mkdir "$ref"
    mv "$out" "$ref/out"
    mv "$tmp/stdout" "$ref/stdout"
    mv "$tmp/stderr" "$ref/stderr"
    slurp ref_stdout "$ref/stdout"
    slurp ref_stderr "$ref/stderr"
    slurp log "$tmp/log"
    total=
    if [ "$scope" = children ]; then
        [[ $log =~ children_allocs\ ([0-9]+) ]] && total=${BASH_REMATCH[1]}
    else
        [[ $log =~ \ allocs\ ([0-9]+) ]] && total=${BASH_REMATCH[1]}
    fi

    for persist in $persist_modes; do
        n=0 clean=0 tolerated=0 last_crash=-1
        while :; do
            n=$((n + 1))
            if [ "$n" -gt "$max_n" ]; then
                fail "$n" "$scope" "$persist" "still injecting at N=$max_n (KPIEVAL_FAULT_MAX)" "${args[@]}"
                break
            fi
            run_one "$n" "$scope" "$persist" "${args[@]}"
            injected=0
            slurp log "$tmp/log"
            if [ "$scope" = children ]; then
                # Forked children report through the main process's exit
                # line; without one (it died), assume they injected while
                # N is within the reference run's allocations.
                if [[ $log =~ children_injected\ ([0-9]+) ]]; then
                    [ "${BASH_REMATCH[1]}" -gt 0 ] && injected=1
                elif [ "$n" -le "${total:-0}" ]; then
                    injected=1
                fi
            else
                [[ $log == *" inject "* ]] && injected=1
            fi

            if [ "$rc" = 124 ]; then
                fail "$n" "$scope" "$persist" "hung (killed after 60 s)" "${args[@]}"
            elif [ "$rc" -gt 128 ]; then
                fail "$n" "$scope" "$persist" "killed by signal $((rc - 128))" "${args[@]}"
                # One backtrace per run of crashing N (they share a site).
                if [ "$backtraces" -lt "$max_backtraces" ] && [ "$last_crash" != $((n - 1)) ]; then
                    backtraces=$((backtraces + 1))
                    backtrace "$n" "$scope" "$persist" "${args[@]}"
                fi
                last_crash=$n
            elif [ "$rc" = 2 ]; then
                problems=()
                [ "$injected" = 1 ] || problems+=("exit 2 without an injected failure")
                slurp err "$tmp/stderr"
                if [[ $err != "kpieval: error: "[^\ ]*$'\n' || ${err%$'\n'} == *$'\n'* ]]; then
                    problems+=("stderr is not one 'kpieval: error: ...' line")
                fi
                [ -s "$tmp/stdout" ] && problems+=("stdout is not empty")
                [ ${#left[@]} -gt 0 ] && problems+=("left beside OUT: ${left[*]}")
                if [ ${#problems[@]} -gt 0 ]; then
                    fail "$n" "$scope" "$persist" "$(IFS=';'; echo "${problems[*]}")" "${args[@]}"
                else
                    clean=$((clean + 1))
                fi
            elif [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
                problems=()
                [ "$rc" = "$ref_rc" ] || problems+=("exit $rc, the run without injection exits $ref_rc")
                [ "${left[*]}" = out ] || problems+=("beside OUT: ${left[*]}")
                if [ ! -d "$out" ]; then
                    problems+=("OUT was not written")
                elif ! same_report; then
                    problems+=("the report differs from the run without injection: $(head -c 300 "$tmp/tree.diff" | tr '\n' ' ')")
                fi
                slurp got "$tmp/stdout"
                [ "$got" = "$ref_stdout" ] || problems+=("stdout differs")
                slurp got "$tmp/stderr"
                [ "$got" = "$ref_stderr" ] || problems+=("stderr differs")
                if [ ${#problems[@]} -gt 0 ]; then
                    fail "$n" "$scope" "$persist" "$(IFS=';'; echo "${problems[*]}")" "${args[@]}"
                elif [ "$injected" = 1 ]; then
                    tolerated=$((tolerated + 1))
                fi
            else
                fail "$n" "$scope" "$persist" "exit status $rc (expected 0, 1 or 2)" "${args[@]}"
            fi
            if [ -n "$verbose" ]; then
                printf '%s%s N=%d exit %s: %s\n' "$pass" "$([ "$persist" = 1 ] && echo ' persistent')" \
                    "$n" "$rc" "$(head -1 "$tmp/stderr" | sed 's/\.tmp-[A-Za-z0-9]*/.tmp-XXXXXX/')"
            fi
            # No failure injected: N is past the last allocation. (Workers
            # share the KPIs out differently from run to run: in children
            # scope, go at least as far as the reference's busiest worker.)
            if [ "$injected" = 0 ] && { [ "$scope" != children ] || [ "$n" -gt "${total:-0}" ]; }; then
                break
            fi
        done
        printf '%s%s: N = 1..%d (%s allocations): %d clean errors, %d recovered, ref exit %s\n' \
            "$pass" "$([ "$persist" = 1 ] && echo ' persistent')" "$n" "${total:-?}" \
            "$clean" "$tolerated" "$ref_rc"
    done
done
echo "run_fault: $failures failures in $((SECONDS - start)) s"
[ "$failures" = 0 ]
