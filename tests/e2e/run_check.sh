#!/usr/bin/env bash
# kpieval check on a copy of datasets/seoul-2019 with the mistakes analysts
# make: a misspelt input in a KPI that declares its inputs and in one that
# does not, a misspelt plugin, a formula that does not compile. check names
# each at file:line:column (the column worked out here, from the file, in
# characters) with the formula's line, a caret and a suggestion, and exits
# 2; run on the same copy fails only those KPIs.
#   tests/e2e/run_check.sh KPIEVAL SOURCE_DIR
bin=$1
src=$2
. "$(dirname "$0")/../batch/lib.sh"

# has NAME TEXT: the last stderr holds TEXT as one whole line.
has() {
    grep -qxF -- "$2" "$tmp/last.stderr" && ok "$1" ||
        fail "$1: no line '$2' in: $(head -c 3000 "$tmp/last.stderr")"
}

plan=$tmp/plan
cp -r "$src/datasets/seoul-2019" "$plan"
run check "$plan"
[ "$(rc)" = 1 ] && ! grep -q ': error: ' "$tmp/last.stderr" &&
    [ "$(grep -c ': warning: ' "$tmp/last.stderr")" = 4 ] &&
    ok "seoul-2019 as shipped: its 4 plan warnings, exit 1" ||
    fail "seoul-2019 as shipped: exit $(rc): $(cat "$tmp/last.stderr")"
plugins=$(cd "$src/formulas" && ls -- *.lua | sed 's/\.lua$//' | LC_ALL=C sort)
n_plugins=$(echo "$plugins" | wc -l)
plugin_list=$(echo "$plugins" | paste -sd, | sed 's/,/, /g')
grep -qx "checked 16 KPIs, 12 distinct expressions, $n_plugins plugin files: 0 errors, 4 warnings" \
    "$tmp/last.stdout" && ok "the summary counts" || fail "summary: $(cat "$tmp/last.stdout")"

# The mistakes, and a plugin of the dataset's own that does not compile
# (line 4 is its end: 'end' expected); each KPI's file line and the column of the spot, counted in
# characters of the file's own line (the cells before hold Hangul).
python3 - "$plan/indicators.csv" >"$tmp/spots" <<'PY'
import csv, sys
path = sys.argv[1]
rows = list(csv.reader(open(path, encoding="utf-8", newline="")))
h = rows[0]
f = h.index("formula")
h.append("inputs")
for r in rows[1:]:
    r.append("")
by_id = {r[0]: r for r in rows[1:]}
by_id["1-1.regular"][f] = "ratio(employd, eligible)"
by_id["1-1.regular"][-1] = "employed; eligible"
by_id["1-1.short"][f] = "ratio(employd, eligible)"
by_id["2-1.commercialization"][f] = "ratoi(commercialized, funded)"
by_id["1-3.hub-schools"][f] = "schools +"
by_id["1-2.bio"][f] = "share(attendees, 400)"
with open(path, "w", encoding="utf-8", newline="") as out:
    csv.writer(out, lineterminator="\n").writerows(rows)
lines = open(path, encoding="utf-8").read().split("\n")
def spot(kpi, token, end=False):
    n = next(i for i, l in enumerate(lines) if l.startswith(kpi + ","))
    line = lines[n]
    at = line.index(token) + (len(token) if end else 0)
    return "%d:%d" % (n + 1, at + 1)
print("regular", spot("1-1.regular", "employd"))
print("short", spot("1-1.short", "employd"))
print("ratoi", spot("2-1.commercialization", "ratoi"))
print("syntax", spot("1-3.hub-schools", "schools +", end=True))
print("bio", spot("1-2.bio", "share"))
PY
mkdir -p "$plan/formulas"
printf -- '-- share(part, whole): part per 100 of whole\nreturn function(part, whole)\n  return part / whole * 100\n' \
    >"$plan/formulas/share.lua"
sleep 1 && touch "$tmp/before" # what check might write is newer
plugin_list=$( (echo "$plugins"; echo share) | LC_ALL=C sort | paste -sd, | sed 's/,/, /g')
at() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/spots"; }

run check "$plan"
[ "$(rc)" = 2 ] && ok "check: errors, exit 2" || fail "check: exit $(rc), expected 2"
has "declared inputs: a misspelt one is an error, with the spot and the near name" \
    "$plan/indicators.csv:$(at regular): error: '1-1.regular': unknown name 'employd': not among the inputs the KPI declares, a plugin or the library; did you mean 'employed'?"
has "the formula's line" "    ratio(employd, eligible)"
has "a caret under the name" "          ^~~~~~~"
has "the names that exist" "    names there: eligible, employed"
has "no declared inputs: a warning that it will be missing, and the near name" \
    "$plan/indicators.csv:$(at short): warning: '1-1.short': 'employd' has no value in period '2019': the KPI will be missing (a misspelt input?); did you mean 'employed'?"
has "a misspelt plugin is an error, with the near plugin" \
    "$plan/indicators.csv:$(at ratoi): error: '2-1.commercialization': unknown function 'ratoi': no plugin or library function has that name; did you mean 'ratio'?"
has "the plugins that exist" "    names there: $plugin_list"
has "a syntax error at the end of the formula" \
    "$plan/indicators.csv:$(at syntax): error: '1-3.hub-schools': the formula does not compile: unexpected symbol near <eof>"
has "its caret" "             ^"
has "a broken plugin: its file and line, first" \
    "$plan/formulas/share.lua:4: error: 'end' expected (to close 'function' at line 2) near <eof>"
has "a KPI calling it: at the call" \
    "$plan/indicators.csv:$(at bio): error: '1-2.bio': calls plugin 'share', which failed to load (see its file's error): the KPI will be in error"
has "the plan warnings at their lines" \
    "$plan/indicators.csv:6: warning: '1-3.trainees': the target 3000 is equal to the baseline 3000 of a KPI to increase: the plan asks for no progress on last year"
[ ! -e "$plan.lock" ] && [ -z "$(find "$plan" -newer "$tmp/before")" ] &&
    ok "check writes nothing" || fail "check wrote: $(find "$plan" -newer "$tmp/before")"

run check "$plan" --log json
python3 - "$tmp/last.stderr" "$plan/indicators.csv" "$(at regular)" <<'PY' &&
import json, sys
events = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
first = [e for e in events if e["event"] == "error" and "employd" in e["message"]][0]
line, col = map(int, sys.argv[3].split(":"))
assert first["file"] == sys.argv[2] and first["line"] == line and first["column"] == col, first
assert "did you mean 'employed'?" in first["message"], first
assert sum(e["event"] == "warning" for e in events) == 5, events
assert sum(e["event"] == "error" for e in events) == 5, events
PY
    ok "--log json: each finding an event with file, line and column" ||
    fail "--log json: $(head -c 2000 "$tmp/last.stderr")"

# run: only the five KPIs fail, each with its own words.
run run "$plan" --out "$tmp/out" --quiet
[ "$(rc)" = 1 ] && ok "run: exit 1, the report written" || fail "run: exit $(rc): $(cat "$tmp/last.stderr")"
python3 - "$tmp/out/kpis.csv" <<'PY' && ok "run: only the KPIs with mistakes fail" || fail "run: statuses"
import csv, sys
rows = {r["id"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
want = {"1-1.regular": ("error", "unknown name 'employd'"),
        "1-1.short": ("missing", "did you mean 'employed'?"),
        "2-1.commercialization": ("error", "unknown function 'ratoi'"),
        "1-3.hub-schools": ("invalid", "indicators.csv:7: '1-3.hub-schools': the formula does not compile"),
        "1-2.bio": ("error", "plugin 'share' failed to load: ")}
for kpi, r in rows.items():
    if kpi in want:
        status, words = want[kpi]
        assert r["status"] == status and words in r["message"], (kpi, r["status"], r["message"])
    else:
        assert r["status"] == "ok", (kpi, r["status"], r["message"])
assert len(rows) == 16
PY

# --evaluate: the checks, then the evaluation's table; the higher status.
run check "$src/datasets/seoul-2019" --evaluate --quiet
[ "$(rc)" = 1 ] && ok "check --evaluate of seoul-2019: exit 1 (warnings)" || fail "check --evaluate: exit $(rc)"
finish
