#!/usr/bin/env bash
# kpieval eval, formulas and test through the real binary: values, scoring,
# the messages and exit status of each failure, the plugin list with its
# shadowing, the test runner's report. Expected figures worked by hand.
#   tests/e2e/run_formula_commands.sh KPIEVAL SOURCE_DIR
bin=$1
src=$2
. "$(dirname "$0")/../batch/lib.sh"

# expect NAME RC STDOUT STDERR: exit status and both streams exactly.
expect() {
    local name=$1 want_rc=$2
    printf '%s' "$3" >"$tmp/want.stdout"
    printf '%s' "$4" >"$tmp/want.stderr"
    if [ "$(rc)" = "$want_rc" ] && cmp -s "$tmp/want.stdout" "$tmp/last.stdout" &&
        cmp -s "$tmp/want.stderr" "$tmp/last.stderr"; then
        ok "$name"
    else
        fail "$name: exit $(rc) (expected $want_rc)"
        diff -u --label expected --label stdout "$tmp/want.stdout" "$tmp/last.stdout"
        diff -u --label expected --label stderr "$tmp/want.stderr" "$tmp/last.stderr"
    fi
}

# ---- eval ---------------------------------------------------------------------

# 2150 / 3265 * 100 = 65.849923430321592...; against 65: 101.307... %
run eval 'ratio(employed, eligible)' employed=2150 eligible=3265 --target 65
expect "eval: value and achievement" 0 "value        65.84992343032158
rounded      65.85
achievement  101.31
capped       101.31 (at 120)
band         exceeded
" ""

# decrease: target / actual = 5 / 4 = 125 %, capped at --cap 110
run eval 'days / cases' days=40 cases=10 --target 5 --direction decrease --cap 110
expect "eval: decrease and --cap" 0 "value        4
rounded      4.00
achievement  125.00
capped       110.00 (at 110)
band         exceeded
" ""

# baseline: (actual - baseline) / (target - baseline) = (70 - 50) / (90 - 50) = 50 %
run eval x x=70 --target 90 --baseline 50 --scoring baseline
expect "eval: the baseline rule" 0 "value        70
rounded      70.00
achievement  50.00
capped       50.00 (at 120)
band         below
" ""

run eval 'ratio(a, 0)' a=1
expect "eval: a plugin's error, exit 1" 1 "" "kpieval: error: formula:1: ratio: whole is 0
"

run eval 'ratio(a, b' a=1 b=2
expect "eval: a syntax error with a caret" 1 "" "kpieval: invalid: formula:1: ')' expected near <eof>
    ratio(a, b
              ^
"

run eval 'a +* b' a=1 b=2
expect "eval: the caret under the token" 1 "" "kpieval: invalid: formula:1: unexpected symbol near '*'
    a +* b
       ^
"

run eval 'ratio(employed, eligble)' employed=1 eligible=2
expect "eval: a name not given is missing, with the names given" 1 "" \
"kpieval: missing: input 'eligble' missing for 'formula'; did you mean 'eligible'?
kpieval: inputs given: employed, eligible
"

run eval 'while true do end' --max-instructions 1000
expect "eval: the run's limits" 1 "" \
"kpieval: error: formula: formula stopped: instruction limit of 1000 exceeded
"

run eval 'os.exit(1)'
expect "eval: the run's sandbox" 1 "" \
"kpieval: error: formula:1: 'os' is not available to formulas (see docs/security.md)
"

run eval x x=abc
expect "eval: a bad value is a usage error" 2 "" "kpieval: input 'x': value 'abc' is not a number
see 'kpieval eval --help'
"

run eval x x=1 x=2
expect "eval: an input twice" 2 "" "kpieval: input 'x' given twice
see 'kpieval eval --help'
"

run eval x x=1 --scoring binary
expect "eval: scoring without a target" 2 "" \
"kpieval: --direction, --scoring and --baseline score against a --target; give one
see 'kpieval eval --help'
"

run eval
expect "eval: no formula" 2 "" "kpieval: eval needs a formula, e.g. kpieval eval 'ratio(a, b)' a=1 b=4
see 'kpieval eval --help'
"

mkdir -p "$tmp/plugins"
printf -- '-- ratio(a, b): a over b\nreturn function(a, b) return a / b end\n' >"$tmp/plugins/ratio.lua"
run eval 'ratio(1, 4)' --formulas "$tmp/plugins"
expect "eval: --formulas shadows the standard library" 0 "value        0.25
rounded      0.25
" ""

# ---- formulas -----------------------------------------------------------------

std=$(cd "$src/formulas" && pwd -P)
printf -- '-- ratio(a, b): a over b, not in percent\nreturn function(a, b) return a / b end\n' \
    >"$tmp/plugins/ratio.lua"
run formulas "$tmp/plugins"
expect "formulas: the standard library, then DIR, with shadowing" 0 "$std (standard library)
  cap(x, hi)                          x, but at most hi, e.g. cap(ratio(enrolled, places), 100) for a rate that may not pass 100
  clamp(x, lo, hi)                    x held within lo and hi, e.g. clamp(growth(sales, sales_2018), 0, 100)
  count(x1, x2, ...)                  how many arguments are true or a number greater than 0, e.g. quarters that held an event
  floor_at(x, lo)                     x, but at least lo, e.g. floor_at(growth(visitors, visitors_2018), 0) counts a fall as 0
  growth(current, previous)           percent change from previous to current, (current - previous) / |previous| * 100
  mean(x1, x2, ...)                   the average (평균) of one or more numbers, their sum divided by how many there are
  per_capita(count, population, per)  count / population * per; per person (1인당) when per is left out, or per 1000, 100000 people
  percent_of(value, percent)          value * percent / 100, e.g. a target set at 110% of last year's count
  progress(actual, plan)              actual against plan in percent, actual / plan * 100; plan must be > 0
  ratio(part, whole)                  part as a percentage of whole, part / whole * 100
    shadowed by $tmp/plugins/ratio.lua
  reduction(current, previous)        percent decrease (감소율) from previous to current, (previous - current) / previous * 100
  sum(x1, x2, ...)                    the total of one or more numbers, e.g. attendees of several programmes
  weighted_mean(v1, w1, v2, w2, ...)  the average of values v weighted by w, sum(v * w) / sum(w); weights >= 0
$tmp/plugins
  ratio(a, b)                         a over b, not in percent
    shadows $std/ratio.lua
" ""

run formulas "$src/examples/city-services"
tail -2 "$tmp/last.stdout" >"$tmp/tail"
printf '%s\n' "$src/examples/city-services/formulas" \
    "  per_quarter(q1, q2, q3, q4)         the year's total of four quarterly counts" >"$tmp/want"
[ "$(rc)" = 0 ] && cmp -s "$tmp/want" "$tmp/tail" &&
    ok "formulas: a dataset folder's formulas/" || fail "formulas DATASET: $(cat "$tmp/tail")"

# ---- test ---------------------------------------------------------------------

run test
[ "$(rc)" = 0 ] && grep -qx "# $std/tests.csv" "$tmp/last.stdout" &&
    grep -q '^# [0-9]* tests in 1 file: [0-9]* passed, 0 failed$' "$tmp/last.stdout" &&
    ! grep -q '^not ok' "$tmp/last.stdout" &&
    ok "test: the standard library's tests pass" || fail "test: $(tail -3 "$tmp/last.stdout")"

# ratio here is the plugin of $tmp/plugins, which returns inf for a / 0
cat >"$tmp/plugins/tests.csv" <<'CSV'
name,formula,inputs,expect,tolerance
quarter,"ratio(a, b)",a=1; b=4,0.25,
wrong value,"ratio(a, b)",a=1; b=4,0.3,
wrong error,"ratio(a, 0)",a=1,error: whole is 0,
missing,"ratio(a, b)",a=1,missing: b,
CSV
run test "$tmp/plugins"
expect "test: a failing test, exit 1" 1 "# $tmp/plugins/tests.csv
ok 1 - quarter
not ok 2 - wrong value
#   at $tmp/plugins/tests.csv:3: ratio(a, b)
#   expected: 0.3 (within 1e-09)
#   got:      0.25
not ok 3 - wrong error
#   at $tmp/plugins/tests.csv:4: ratio(a, 0)
#   expected: error: whole is 0
#   got:      error: test-3: formula returned inf (e.g. a division by 0), not a finite number
ok 4 - missing
1..4
# 4 tests in 1 file: 2 passed, 2 failed
" ""

printf 'name,formula,expect\nx,1,maybe\n' >"$tmp/plugins/tests.csv"
run test "$tmp/plugins"
expect "test: a bad test file, exit 2 at file:line" 2 "" \
"kpieval: error: $tmp/plugins/tests.csv:2: expect 'maybe': expected a number, 'error: PART OF THE MESSAGE' or 'missing: INPUT'
"

run test "$src/examples/city-services"
[ "$(rc)" = 0 ] && grep -qx "# 4 tests in 1 file: 4 passed, 0 failed" "$tmp/last.stdout" &&
    ok "test: examples/city-services" || fail "test examples: $(cat "$tmp/last.stdout")"

finish
