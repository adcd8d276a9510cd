#!/usr/bin/env bash
# Input encodings (issue 11): the Seoul dataset converted to CP949 by
# iconv(1) and read with --encoding cp949 gives byte for byte the reports
# of the UTF-8 original; a byte that is not CP949, a CP949 file read as
# UTF-8 and one CP949 cell in a UTF-8 file are each exit 2 with
# file:line:column and what to do, nothing written.
#   tests/e2e/run_encoding.sh KPIEVAL SOURCE_DIR
bin=$1 src=$2
. "$(dirname "$0")/../batch/lib.sh"
has() { grep -qF -- "$1" "$tmp/last.stderr"; }
refused() { # NAME OUT WANT...: exit 2, OUT absent, stderr has each WANT
    local name=$1 out=$2 bad=0; shift 2
    [ "$(rc)" = 2 ] || { fail "$name: exit $(rc), expected 2"; bad=1; }
    [ ! -e "$out" ] || { fail "$name: $out written"; bad=1; }
    for want in "$@"; do
        has "$want" || { fail "$name: stderr lacks '$want': $(cat "$tmp/last.stderr")"; bad=1; }
    done
    [ $bad = 1 ] || ok "$name"
}
command -v iconv >/dev/null || { echo "iconv(1) not found"; exit 1; }

# The same folder, first in UTF-8 then in CP949, so that report.json (which
# names the dataset) may be compared too.
cp -r "$src/datasets/seoul-2019" "$tmp/plan"
run run "$tmp/plan" --out "$tmp/utf8" --quiet --jobs 2
[ "$(rc)" = 0 ] || fail "UTF-8 run: exit $(rc): $(cat "$tmp/last.stderr")"
# check (and its evaluation): seoul-2019's four plan warnings, exit 1
run check "$tmp/plan" --evaluate --jobs 2
cp "$tmp/last.stdout" "$tmp/check.utf8"
cp "$tmp/last.stderr" "$tmp/check.utf8.stderr"
check_rc=$(rc)
for f in indicators.csv actuals.csv; do
    iconv -f UTF-8 -t CP949 "$src/datasets/seoul-2019/$f" >"$tmp/plan/$f" ||
        fail "iconv could not convert $f"
done
cmp -s "$tmp/plan/indicators.csv" "$src/datasets/seoul-2019/indicators.csv" &&
    fail "the CP949 copy is the same bytes as the UTF-8 file: nothing is tested"
run run "$tmp/plan" --out "$tmp/cp949" --quiet --jobs 2 --encoding cp949
if [ "$(rc)" != 0 ]; then
    fail "CP949 run: exit $(rc): $(cat "$tmp/last.stderr")"
else
    # Byte for byte but the provenance's files, whose bytes differ: their
    # digests are those of the files as they are, CP949.
    for d in utf8 cp949; do
        cp -r "$tmp/$d" "$tmp/cmp.$d" && sed -i -E '/^      \{"path": .*"sha256": /d' "$tmp/cmp.$d/report.json" &&
            sed -i -E '/^<tr><td>[a-z]+\.csv <span class="na">input<\/span>/d' "$tmp/cmp.$d/report.html"
        python3 "$(dirname "$0")/../xlsx/xlsx_dump.py" "$tmp/cmp.$d/report.xlsx" --no-digests \
            >"$tmp/cmp.$d/report.xlsx.txt" && rm "$tmp/cmp.$d/report.xlsx"
    done
    if same_report "$tmp/cmp.utf8" "$tmp/cmp.cp949"; then
        ok "CP949 with --encoding cp949: byte-identical reports"
    else
        fail "CP949 reports differ: $(head -c 2000 "$tmp/diff.out")"
    fi
    for f in indicators.csv actuals.csv; do
        sum=$(sha256sum "$tmp/plan/$f" | cut -d' ' -f1)
        grep -qF "{\"path\": \"$f\", \"sha256\": \"$sum\"" "$tmp/cp949/report.json" &&
            ok "provenance: $f's SHA-256 is the CP949 file's" ||
            fail "provenance: $f's SHA-256 is not sha256sum's $sum"
    done
fi
run check "$tmp/plan" --evaluate --jobs 2 --encoding=EUC-KR
cmp -s "$tmp/check.utf8" "$tmp/last.stdout" && cmp -s "$tmp/check.utf8.stderr" "$tmp/last.stderr" &&
    [ "$(rc)" = 1 ] && [ "$check_rc" = 1 ] &&
    ok "check --encoding=EUC-KR prints what it prints for the UTF-8 files" ||
    fail "check --encoding=EUC-KR: exit $(rc) (UTF-8: $check_rc), output differs"

# Read as UTF-8: named at its first Korean character, worked out here.
where=$(python3 -c '
import sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    for c, ch in enumerate(line, 1):
        if ord(ch) > 127:
            print("%d:%d" % (n, c)); sys.exit()' "$src/datasets/seoul-2019/indicators.csv")
run run "$tmp/plan" --out "$tmp/o1" --quiet
refused "a CP949 file read as UTF-8 names --encoding" "$tmp/o1" \
    "kpieval: error: indicators.csv:$where: not valid UTF-8; the file looks like CP949/EUC-KR" \
    "read it with encoding cp949, or convert it with 'iconv -f CP949 -t UTF-8 indicators.csv >" \
    "(see --encoding)"

# A byte that is not CP949: a line added at the end, 0xFF its 2nd character.
lines=$(wc -l <"$tmp/plan/actuals.csv")
printf 'x\377\n' >>"$tmp/plan/actuals.csv"
run run "$tmp/plan" --out "$tmp/o2" --quiet --encoding cp949
refused "a byte that is not CP949 names file:line:column" "$tmp/o2" \
    "kpieval: error: actuals.csv:$((lines + 1)):2: not valid CP949/EUC-KR (byte 0xFF): re-type that cell, or if the file is UTF-8, read it as UTF-8 (see --encoding)"

# One CP949 cell (경제, B0E6 C1A6) in the UTF-8 file: the option would not
# help, and is not offered.
cp "$src/datasets/seoul-2019/"*.csv "$tmp/plan/"
lines=$(wc -l <"$tmp/plan/indicators.csv")
printf 'K9,\260\346\301\246,x\n' >>"$tmp/plan/indicators.csv"
run run "$tmp/plan" --out "$tmp/o3" --quiet
refused "one CP949 cell in a UTF-8 file" "$tmp/o3" \
    "kpieval: error: indicators.csv:$((lines + 1)):4: not valid UTF-8 (bytes 0xB0 0xE6): the file is otherwise UTF-8; the cell at $((lines + 1)):4 holds CP949 bytes; re-type it or save the file as UTF-8"
has "--encoding" && fail "one CP949 cell: the option is offered, and would not help"

run check "$tmp/plan" --encoding latin1
refused "an unknown encoding is a usage error" "$tmp/none" \
    "kpieval: --encoding: unknown encoding 'latin1' (known: utf-8, cp949, euc-kr)"
finish
