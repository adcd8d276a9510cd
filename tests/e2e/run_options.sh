#!/usr/bin/env bash
# The command line through the real binary: every subcommand's --help (exit
# 0, stdout, exactly its own options), "did you mean" for an option and a
# subcommand, an unknown last option, --name=value, and the short hint a
# usage error ends with. The expected option lists and messages below are
# written by hand from docs/kpieval.1, not taken from kpieval's output.
#   tests/e2e/run_options.sh KPIEVAL
bin=$1
. "$(dirname "$0")/../batch/lib.sh"
cases=$(cd "$(dirname "$0")/cases" && pwd -P)
dataset=$cases/periods_select/dataset

# expect_stderr NAME LINE...: exit 2, nothing on stdout, stderr exactly the lines.
expect_stderr() {
    local name=$1; shift
    printf '%s\n' "$@" >"$tmp/want.stderr"
    if [ "$(rc)" = 2 ] && [ ! -s "$tmp/last.stdout" ] &&
        cmp -s "$tmp/want.stderr" "$tmp/last.stderr"; then
        ok "$name"
    else
        fail "$name: exit $(rc), stderr:"
        diff -u --label expected --label stderr "$tmp/want.stderr" "$tmp/last.stderr"
    fi
}

# ---- each subcommand's --help lists exactly its options ---------------------

evaluate_options="--period --encoding --cap --grades --unscored --formulas --max-instructions --max-memory
    --time-limit --jobs --in-process --max-errors --log --quiet --help"
# Per subcommand: the first line of its --help, then the options it takes.
declare -A want=(
    [run]="usage: kpieval run DATASET --out DIR [options]
        --out --reports --lang --csv-bom --shard --wait $evaluate_options"
    [check]="usage: kpieval check DATASET [options]
        --evaluate $evaluate_options"
    [merge]="usage: kpieval merge OUT PART... [options]
        --quiet --help"
    [generate]="usage: kpieval generate N DIR [options]
        --seed --help"
    [eval]="usage: kpieval eval EXPR [NAME=VALUE...] [options]
        --cap --formulas --max-instructions --max-memory --time-limit
        --target --direction --scoring --baseline --help"
    [formulas]="usage: kpieval formulas [DIR...]
        --help"
    [test]="usage: kpieval test [DIR...] [options]
        --max-instructions --max-memory --time-limit --help"
    [help]="usage: kpieval help [COMMAND]
        --help"
    [version]="usage: kpieval version
        --help"
)
sorted_words() { tr -s ' \n' '\n\n' | sed '/^$/d' | LC_ALL=C sort; }
for cmd in run check merge generate eval formulas test help version; do
    first=
    for form in "$cmd --help" "$cmd -h" "help $cmd" "$cmd --cap abc --no-such-option --help"; do
        # shellcheck disable=SC2086 # the form is words
        run $form
        if [ "$(rc)" != 0 ] || [ -s "$tmp/last.stderr" ]; then
            fail "kpieval $form: exit $(rc), stderr: $(head -c 300 "$tmp/last.stderr")"
            continue
        fi
        if [ -z "$first" ]; then
            first=$tmp/help-$cmd
            cp "$tmp/last.stdout" "$first"
        elif ! cmp -s "$first" "$tmp/last.stdout"; then
            fail "kpieval $form: not the same text as kpieval $cmd --help"
        fi
    done
    [ -n "$first" ] || continue
    usage=$(head -1 <<<"${want[$cmd]}")
    [ "$(head -1 "$first")" = "$usage" ] ||
        fail "$cmd --help: first line '$(head -1 "$first")', expected '$usage'"
    # The options are the lines "  --name ..." or "  -h, --help ...".
    sed -n 's/^  \(-h, \)\{0,1\}\(--[a-z-]*\).*/\2/p' "$first" | LC_ALL=C sort >"$tmp/got"
    tail -n +2 <<<"${want[$cmd]}" | sorted_words >"$tmp/want"
    if diff -u --label expected --label "kpieval $cmd --help" "$tmp/want" "$tmp/got" >"$tmp/diff"
    then
        ok "kpieval $cmd --help: exit 0, exactly its options"
    else
        fail "kpieval $cmd --help lists other options:"
        cat "$tmp/diff"
    fi
done

# The general usage: every subcommand, every option, on stdout.
for form in help --help -h; do
    run $form
    missing=
    for cmd in run check merge generate eval formulas test help version; do
        grep -q "^  kpieval $cmd" "$tmp/last.stdout" || missing="$missing $cmd"
    done
    for opt in $(for cmd in "${!want[@]}"; do tail -n +2 <<<"${want[$cmd]}"; done |
        sorted_words | uniq); do
        grep -q -- "^  \(-h, \)\{0,1\}$opt\b" "$tmp/last.stdout" || missing="$missing $opt"
    done
    [ "$(rc)" = 0 ] && [ -z "$missing" ] && [ ! -s "$tmp/last.stderr" ] &&
        ok "kpieval $form: every command and option" ||
        fail "kpieval $form: exit $(rc), lacks:$missing"
done
grep -qx "options of run, check and merge:" "$tmp/last.stdout" &&
    grep -qx "options of run, check, eval and test:" "$tmp/last.stdout" &&
    grep -qx "  --quiet               print only errors, warnings and the KPIs not ok:" "$tmp/last.stdout" &&
    ok "usage groups --quiet under run, check and merge, the limits under run, check, eval and test" ||
    fail "usage does not group --quiet under run, check and merge, or the limits under run, check, eval and test"

# ---- usage errors: the message, then a short hint ---------------------------

run run "$dataset" --out "$tmp/o1" --perod 2019
expect_stderr "misspelt option: did you mean" \
    "kpieval: unknown option '--perod' for 'kpieval run'; did you mean '--period'?" \
    "see 'kpieval run --help'"
[ ! -e "$tmp/o1" ] || fail "a usage error wrote $tmp/o1"

run check "$dataset" --max-mem 1G
expect_stderr "unique prefix: did you mean" \
    "kpieval: unknown option '--max-mem' for 'kpieval check'; did you mean '--max-memory'?" \
    "see 'kpieval check --help'"

run rnu "$dataset" --out "$tmp/o1"
expect_stderr "misspelt subcommand: did you mean" \
    "kpieval: unknown command 'rnu'; did you mean 'run'?" \
    "see 'kpieval help'"

run help chekc
expect_stderr "help with a misspelt subcommand" \
    "kpieval: unknown command 'chekc'; did you mean 'check'?" \
    "see 'kpieval help'"

run run "$dataset" --out "$tmp/o1" --foo
expect_stderr "unknown last option: not 'needs a value'" \
    "kpieval: unknown option '--foo' for 'kpieval run'" \
    "see 'kpieval run --help'"

run run "$dataset" --out "$tmp/o1" --period
expect_stderr "known value option last: needs a value" \
    "kpieval: option '--period' needs a value" \
    "see 'kpieval run --help'"

run check "$dataset" --out "$tmp/o1"
expect_stderr "an option of another subcommand" \
    "kpieval: '--out' is not an option of 'kpieval check'" \
    "see 'kpieval check --help'"

run merge "$tmp/m" "$tmp/p1" --wait
expect_stderr "merge: an option of run" \
    "kpieval: '--wait' is not an option of 'kpieval merge'" \
    "see 'kpieval merge --help'"

run generate 10 "$tmp/g" --seed
expect_stderr "generate: --seed last" \
    "kpieval: option '--seed' needs a value" \
    "see 'kpieval generate --help'"

run run "$dataset" --out "$tmp/o1" --cap=abc
expect_stderr "--cap=abc checked like --cap abc" \
    "kpieval: --cap 'abc': expected a number > 0" \
    "see 'kpieval run --help'"

run
expect_stderr "no command" "kpieval: no command given" "see 'kpieval help'"

# ---- --name=value means --name value -----------------------------------------

run run "$dataset" --out "$tmp/spaced" --period 2019 --cap 70 --jobs 1
spaced_rc=$(rc)
sed "s|$tmp/spaced|OUT|g" "$tmp/last.stdout" >"$tmp/spaced.stdout"
run run "$dataset" --out="$tmp/equals" --period=2019 --cap=70 --jobs=1
sed "s|$tmp/equals|OUT|g" "$tmp/last.stdout" >"$tmp/equals.stdout"
if [ "$spaced_rc" = 1 ] && [ "$(rc)" = 1 ] && cmp -s "$tmp/spaced.stdout" "$tmp/equals.stdout" &&
    [ -f "$tmp/equals/kpis.csv" ] && same_report "$tmp/spaced" "$tmp/equals"; then
    ok "--out=DIR --period=2019 --cap=70: the same run as with spaces"
else
    fail "--name=value: exit $spaced_rc and $(rc); $(head -c 300 "$tmp/diff.out" 2>/dev/null)"
fi
# The values were applied: without --period the file's two periods stop the
# run; --cap 70 caps P1 (80) and P2 (75) at 70, so with the third KPI
# missing (counted as 0) the department's mean is (70 + 70 + 0) / 3 = 46.67
# rather than (80 + 75 + 0) / 3 = 51.67.
grep -qx '관광과,3,2,1,0,0,66.67,46.67,D,"partial: 2 of 3 KPIs scored (66.67% of the weight), unscored counted as 0"' \
    "$tmp/equals/departments.csv" 2>/dev/null &&
    ok "--cap=70 applied" || fail "--cap=70: departments.csv is $(cat "$tmp/equals/departments.csv" 2>&1)"

finish
