#!/usr/bin/env bash
# Text that people read cannot be forged through the inputs (docs/security.md):
# a formula's error message, cells of the input files and paths given on the
# command line reach stderr, stdout and the CSV reports with every control
# character as a visible \xHH escape, and report.json and `--log json` stay
# valid UTF-8 and strict JSON.
#
#   tests/e2e/run_injection.sh KPIEVAL_BINARY
set -u
bin=$1
case "$bin" in
    */*) bin=$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin") ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 3

# The dataset and plugin folders are named with bytes that are not UTF-8.
ds=$'ds\xff\xfe'
fx=$'fx\xff\x9b'
out=$'out\xc2\x9b\xff' # U+009B and a stray byte: the summary names it
mkdir "$ds" "$fx"
python3 - "$ds" <<'PY'
import os, sys
d = os.fsencode(sys.argv[1])
# Lua escapes: ESC ] 0 ; title BEL, ESC [2J (clear screen), LF, a forged
# line, CR, U+009B (CSI as a C1 character) and a stray byte 0x80.
formula = ('error("\\27]0;owned\\7\\27[2J\\nkpieval: all KPIs ok\\r'
           '\\194\\155 c1 \\128 raw\\tend")')
rows = [
    b"id,name,department,target,formula",
    b'K1,one,A,10,"' + formula.replace('"', '""').encode() + b'"',
    # A name with an ESC and U+009B, a department with DEL and ESC.
    b"K2,two \x1b[31mred\xc2\x9b,B\x7f\x1b[1m/C,10,x",
    # An unreadable target whose text (with a BEL and CR) goes into the message.
    b'K3,three,A,"1\x07\r2",x',
    # U+009B in a department: also in the name of its departments/ file.
    b"K4,four,D\xc2\x9bx,10,x",
]
open(os.path.join(d, b"indicators.csv"), "wb").write(b"\n".join(rows) + b"\n")
open(os.path.join(d, b"actuals.csv"), "wb").write(
    b"indicator,input,value\nK2,x,10\nK3,x,1\nK4,x,10\n"
    # An unknown indicator: its name is quoted in a warning.
    b'Z\x1b]0;t\x07,x,1\n')
PY

failures=0
fail() {
    failures=$((failures + 1))
    printf 'FAIL %s\n' "$*"
}

# Exit 1: the reports are written, the failures are listed on stderr.
"$bin" run "$ds" --out "$out" --formulas "$fx" --jobs 1 </dev/null >stdout 2>stderr
rc=$?
[ $rc -eq 1 ] || fail "run: exit $rc, expected 1"
"$bin" run "$ds" --out out.log --formulas "$fx" --jobs 1 --log json </dev/null \
    >/dev/null 2>log.json
# A usage error quotes the option value.
"$bin" run "$ds" --out out.bad --cap $'\e]0;x\a\e[2J\nkpieval: all KPIs ok' \
    </dev/null >/dev/null 2>usage.stderr
rc=$?
[ $rc -eq 2 ] || fail "usage: exit $rc, expected 2"
# An input error names the dataset folder.
"$bin" check $'none\xff\e[2J\rkpieval: all KPIs ok' </dev/null >/dev/null 2>input.stderr
rc=$?
[ $rc -eq 2 ] || fail "input error: exit $rc, expected 2"

python3 - "$out" <<'PY' || failures=$((failures + 1))
import json, os, re, sys

out = sys.argv[1] # as os.fsdecode gives it: the stray byte a surrogate

bad = 0
def fail(msg):
    global bad
    bad += 1
    print("FAIL " + msg)

# Raw controls other than LF: C0, DEL, and C1 whether as a raw byte or as
# the UTF-8 encoding of U+0080..U+009F.
raw_control = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")

def check_text(name, data, forged=True):
    m = raw_control.search(data)
    if m:
        fail("%s: raw control byte %r at offset %d" % (name, m.group(), m.start()))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        fail("%s: not valid UTF-8: %s" % (name, e))
        text = data.decode("utf-8", "replace")
    if re.search(r"[\x80-\x9f]", text):
        fail("%s: a C1 control character" % name)
    if forged:
        for line in text.split("\n"):
            if line.startswith("kpieval: all KPIs ok"):
                fail("%s: a forged line %r" % (name, line))
    return text

err = check_text("stderr", open("stderr", "rb").read())
check_text("stdout", open("stdout", "rb").read())
usage = check_text("usage stderr", open("usage.stderr", "rb").read())
inerr = check_text("input error stderr", open("input.stderr", "rb").read())
stdout = open("stdout", "rb").read().decode("utf-8", "replace")

# The escapes are visible, not dropped.
for want in [r"\x1b]0;owned\x07\x1b[2J\x0akpieval: all KPIs ok\x0d\x9b c1",
             r"Z\x1b]0;t\x07", r"target '1\x07\x0d2'"]:
    if want not in err:
        fail("stderr lacks %r:\n%s" % (want, err))
if r"--cap '\x1b]0;x\x07\x1b[2J\x0akpieval: all KPIs ok'" not in usage:
    fail("usage stderr lacks the escaped value:\n" + usage)
if r"none\xff\x1b[2J\x0dkpieval: all KPIs ok" not in inerr:
    fail("input error stderr lacks the escaped path:\n" + inerr)
for want in [r"out\x9b\xff/kpis.csv", r"B\x7f\x1b[1m"]:
    if want not in stdout:
        fail("stdout lacks %r:\n%s" % (want, stdout))

# Each CSV row on one line: as many lines as rows.
csvs = [os.path.join(out, "kpis.csv"), os.path.join(out, "departments.csv")] + sorted(
    os.path.join(out, "departments", f) for f in os.listdir(os.path.join(out, "departments")))
for path in csvs:
    text = check_text(path, open(path, "rb").read(), forged=False)
    for line in text.split("\n")[1:-1]:
        if line.count('"') % 2:
            fail("%s: a quoted cell spans lines: %r" % (path, line))
kpis = open(os.path.join(out, "kpis.csv"), "rb").read().decode("utf-8", "replace")
for want in [r"\x1b]0;owned\x07\x1b[2J\x0akpieval: all KPIs ok\x0d\x9b c1 ? raw\x09end",
             r"two \x1b[31mred\x9b", r"B\x7f\x1b[1m/C", r"1\x07\x0d2"]:
    if want not in kpis:
        fail("kpis.csv lacks %r" % want)
for f in os.listdir(os.fsencode(os.path.join(out, "departments"))):
    if raw_control.search(f):
        fail("departments/%r: a control character in the file name" % f)

# report.json: valid UTF-8, strict JSON, the message kept exactly.
try:
    report = json.loads(open(os.path.join(out, "report.json"), "rb").read().decode("utf-8"))
except (UnicodeDecodeError, ValueError) as e:
    fail("report.json: %s" % e)
else:
    check_text("report.json", open(os.path.join(out, "report.json"), "rb").read(), forged=False)
    p = report["parameters"]
    if p["dataset"] != "ds\ufffd\ufffd":
        fail("report.json: dataset %r" % p["dataset"])
    if not any(d.endswith("fx\ufffd\ufffd") for d in p["plugin_dirs"]):
        fail("report.json: plugin_dirs %r" % p["plugin_dirs"])
    msg = {k["id"]: k["message"] for k in report["kpis"]}
    if "\x1b]0;owned\x07\x1b[2J\nkpieval: all KPIs ok\r\x9b c1" not in (msg["K1"] or ""):
        fail("report.json: K1 message %r" % msg["K1"])

# --log json: every line strict JSON in valid UTF-8.
for i, line in enumerate(open("log.json", "rb").read().split(b"\n")[:-1]):
    try:
        event = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        fail("log.json:%d: %s: %r" % (i + 1, e, line))
        continue
    if event["event"] == "start" and event["dataset"] != "ds\ufffd\ufffd":
        fail("log.json: start dataset %r" % event["dataset"])
sys.exit(1 if bad else 0)
PY

if [ $failures -eq 0 ]; then
    echo "injection: passed"
else
    echo "injection: failed"
    echo "--- stderr"; LC_ALL=C cat -v stderr
    exit 1
fi
