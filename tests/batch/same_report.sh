# same_report A B: two report folders of two runs alike, every byte of every
# file but what tells the runs apart: the lines "command", "started" and
# "finished" of report.json's provenance (docs/formats.md) and report.html's
# (<div class="run-command"> ...); what those hold
# is checked on its own (tests/e2e/run_provenance.sh). Uses $tmp; leaves
# the differences in $tmp/diff.out. Sourced by lib.sh and the examples' tests.
# report.xlsx holds the same three and the times of the document, set
# aside by tests/xlsx/xlsx_dump.py, which prints it as text.
xlsx_dump=$(cd "$(dirname "${BASH_SOURCE[0]}")/../xlsx" && pwd)/xlsx_dump.py
strip_run_lines() {
    find "$1" -name report.json -exec sed -i -E '/^    "(command|started|finished)": /d' {} + &&
        find "$1" -name report.html -exec sed -i -E '/^<div class="run-(command|started|finished)">/d' {} +
    find "$1" -name report.xlsx -exec sh -c 'python3 "$0" "$1" >"$1.txt" && rm "$1"' "$xlsx_dump" {} \;
}
same_report() {
    rm -rf "$tmp/same.1" "$tmp/same.2"
    cp -r "$1" "$tmp/same.1" && cp -r "$2" "$tmp/same.2" || return 1
    strip_run_lines "$tmp/same.1" && strip_run_lines "$tmp/same.2" &&
        diff -r "$tmp/same.1" "$tmp/same.2" >"$tmp/diff.out" 2>&1
}
