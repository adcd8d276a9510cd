#!/usr/bin/env bash
# run_fuzz.sh - builds the libFuzzer targets with clang, ASan and UBSan, and
# fuzzes each for a while on a copy of its seed corpus (tests/fuzz/README.md).
#
# usage: tests/fuzz/run_fuzz.sh [SECONDS_PER_TARGET] [TARGET...] [-- LIBFUZZER_ARGS...]
#   SECONDS_PER_TARGET  default 30
#   TARGET              csv, numbers, dataset, formula (default: all four)
#   LIBFUZZER_ARGS      given to every target, e.g. -- -jobs=4 -workers=4
# environment:
#   FUZZ_BUILD    the clang build folder (default: build-fuzz in the repository)
#   FUZZ_OUT      corpora, crash inputs and logs (default: $FUZZ_BUILD/fuzz-out)
#   FUZZ_TIMEOUT  seconds one input may run before it counts as a hang (default 10)
#   FUZZ_MERGE=1  afterwards, merge the inputs that found new coverage into
#                 tests/fuzz/corpus/TARGET/ (libFuzzer -merge=1)
#   FUZZ_STRICT_TIMEOUTS=1  count hangs of fuzz_formula as failures too
#
# Exit status: 0 when nothing was found; 1 when a target crashed, failed a
# check, leaked, hung, ran out of memory or a sanitizer reported (the input
# is saved under $FUZZ_OUT/TARGET/crashes/); 2 on a usage or build problem.
# Slow inputs (libFuzzer's slow-unit-*) are listed and kept but do not
# fail the run; nor do hangs of fuzz_formula: it evaluates in-process, where
# nothing stops a library call the instruction hook cannot reach (a
# backtracking Lua pattern; in production the worker watchdog kills it), so
# it runs in fork mode with -ignore_timeouts=1 (FUZZ_STRICT_TIMEOUTS=1: fail).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fuzz_src="$root/tests/fuzz"
all_targets=(csv numbers dataset formula names)

seconds=30
targets=()
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*|'')
        found=0
        for t in "${all_targets[@]}"; do [ "$1" = "$t" ] && found=1; done
        if [ $found = 0 ]; then
            echo "run_fuzz.sh: unknown target '$1' (targets: ${all_targets[*]})" >&2
            exit 2
        fi
        targets+=("$1") ;;
    *) seconds="$1" ;;
    esac
    shift
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

build="${FUZZ_BUILD:-$root/build-fuzz}"
out="${FUZZ_OUT:-$build/fuzz-out}"
timeout_s="${FUZZ_TIMEOUT:-10}"

# ---- the toolchain: clang with the libFuzzer runtime ---------------------

libfuzzer_works() {
    local dir
    dir="$(mktemp -d)" || return 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        > "$dir/t.c"
    clang -fsanitize=fuzzer,address,undefined "$dir/t.c" -o "$dir/t" >/dev/null 2>&1 &&
        "$dir/t" -runs=1 >/dev/null 2>&1
    local rc=$?
    rm -rf "$dir"
    return $rc
}

if ! command -v clang >/dev/null 2>&1 || ! libfuzzer_works; then
    # Debian 12: libFuzzer and the sanitizer runtimes are in libclang-rt-14-dev,
    # only a Recommends of clang (so missing after --no-install-recommends).
    if command -v clang >/dev/null 2>&1; then
        pkgs="libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
    else
        pkgs="clang libclang-rt-14-dev"
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "run_fuzz.sh: installing $pkgs"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
    else
        echo "run_fuzz.sh: clang with libFuzzer is missing; run:" >&2
        echo "  sudo apt-get install -y $pkgs" >&2
        exit 2
    fi
    if ! libfuzzer_works; then
        echo "run_fuzz.sh: clang -fsanitize=fuzzer still does not link a test program" >&2
        exit 2
    fi
fi
make -s -C "$root" deps || exit 2

# ---- build ---------------------------------------------------------------

jobs="$(nproc 2>/dev/null || echo 2)"
mkdir -p "$build"
if ! cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DKPIEVAL_SANITIZE=ON -DKPIEVAL_FUZZ=ON >"$build/configure.log" 2>&1; then
    cat "$build/configure.log" >&2
    echo "run_fuzz.sh: configuring $build failed (made with another compiler? remove it)" >&2
    exit 2
fi
cmake --build "$build" --target fuzzers -j "$jobs" >/dev/null || {
    cmake --build "$build" --target fuzzers -j 1 >&2
    echo "run_fuzz.sh: building the fuzz targets failed" >&2
    exit 2
}

# ---- fuzz ----------------------------------------------------------------

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=()
for t in "${targets[@]}"; do
    work="$out/$t"
    exe="$build/tests/fuzz/fuzz_$t"
    rm -rf "$work/corpus" "$work/tmp" "$work"/fuzz-*.log
    mkdir -p "$work/corpus" "$work/crashes" "$work/tmp"
    cp -R "$fuzz_src/corpus/$t/." "$work/corpus/"
    touch "$work/.started"
    case "$t" in
    csv|dataset) dict=("-dict=$fuzz_src/csv.dict") ;;
    names) dict=("-dict=$fuzz_src/formula.dict") ;;
    *) dict=("-dict=$fuzz_src/$t.dict") ;;
    esac

    mode=()
    allow_timeouts=0
    if [ "$t" = formula ] && [ "${FUZZ_STRICT_TIMEOUTS:-0}" != 1 ]; then
        allow_timeouts=1
        case " ${extra[*]-} " in
        *" -fork="*|*" -jobs="*) ;;
        *) mode=(-fork=1) ;;
        esac
        mode+=(-ignore_timeouts=1)
    fi

    echo "== fuzz_$t: ${seconds}s on $(ls "$work/corpus" | wc -l) seeds"
    (cd "$work" && TMPDIR="$work/tmp" "$exe" \
        -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 \
        -artifact_prefix="$work/crashes/" -print_final_stats=1 \
        ${dict[@]+"${dict[@]}"} ${mode[@]+"${mode[@]}"} ${extra[@]+"${extra[@]}"} \
        "$work/corpus") >"$work/fuzz.log" 2>&1
    rc=$?

    new_artifacts="$(find "$work/crashes" -type f -newer "$work/.started" | sort)"
    # slow-unit-*: inputs that took over -report_slow_units (10 s), noted
    # by libFuzzer without failing; timeout-* of fuzz_formula likewise.
    slow_pattern='/slow-unit-'
    [ $allow_timeouts = 1 ] && slow_pattern='/(slow-unit|timeout)-'
    slow="$(printf '%s\n' "$new_artifacts" | grep -E "$slow_pattern" || true)"
    new_artifacts="$(printf '%s\n' "$new_artifacts" | grep -v -E "$slow_pattern" || true)"
    reports="$(cat "$work/fuzz.log" "$work"/fuzz-*.log 2>/dev/null |
        grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|fuzz check failed|SUMMARY: |is not valid UTF-8 at byte|bytes long \(limit|differs between two evaluations|^control ' |
        { if [ $allow_timeouts = 1 ]; then grep -v -E 'libFuzzer: timeout|SUMMARY: libFuzzer: timeout'; else cat; fi; } |
        sort -u | head -20)"
    { grep -hE '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' "$work/fuzz.log"
      grep -hE '^#[0-9]+: cov:' "$work/fuzz.log" | tail -1; } 2>/dev/null | tail -3 | sed 's/^/   /'
    if [ $rc -ne 0 ] || [ -n "$new_artifacts" ] || [ -n "$reports" ]; then
        failed+=("$t")
        echo "   FAILED (exit $rc); log: $work/fuzz.log"
        [ -n "$reports" ] && printf '%s\n' "$reports" | sed 's/^/   | /'
        [ -n "$new_artifacts" ] && printf '%s\n' "$new_artifacts" | sed 's/^/   input: /'
        echo "   reproduce: $exe INPUT   (or $build/tests/fuzz/replay_$t INPUT)"
    else
        echo "   ok"
    fi
    if [ -n "$slow" ]; then
        echo "   slow inputs (not counted as failures):"
        printf '%s\n' "$slow" | sed 's/^/   slow: /'
    fi
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        before=$(ls "$fuzz_src/corpus/$t" | wc -l)
        (cd "$work" && TMPDIR="$work/tmp" "$exe" -merge=1 -timeout="$timeout_s" \
            "$fuzz_src/corpus/$t" "$work/corpus") >"$work/merge.log" 2>&1
        echo "   merged: $(( $(ls "$fuzz_src/corpus/$t" | wc -l) - before )) new inputs into tests/fuzz/corpus/$t"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "run_fuzz.sh: findings in: ${failed[*]} (inputs under $out/*/crashes/)"
    exit 1
fi
echo "run_fuzz.sh: ${targets[*]}: nothing found in ${seconds}s each"
