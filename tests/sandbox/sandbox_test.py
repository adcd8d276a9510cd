#!/usr/bin/env python3
"""Run the hostile-formula cases of tests/sandbox against a kpieval binary.

    sandbox_test.py case CASE KPIEVAL           one case (a .lua file or a folder)
    sandbox_test.py mixed CASES_DIR KPIEVAL     every eligible case in one dataset,
                                                run with --jobs 1/2/3, the default
                                                and --in-process: same reports
    sandbox_test.py kill-worker SIGNAL JOBS KPIEVAL
                                                a worker killed from outside by
                                                SIGNAL (SIGKILL, SIGSEGV, ...)

Exit 0 and "PASS NAME" when everything holds; otherwise every failed check
is printed and the exit status is 1 (3 when the case itself is broken or
the binary is missing). The case format is described in README.md beside
this file. Standard library only.
"""

import csv
import hashlib
import io
import json
import os
import re
import shlex
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

KPIS_HEADER = ["id", "name", "department", "unit", "direction", "baseline", "target",
               "formula", "inputs", "actual", "achievement", "achievement_capped",
               "band", "weight", "status", "message"]
STATUS_COL, MESSAGE_COL = KPIS_HEADER.index("status"), KPIS_HEADER.index("message")
STATUSES = ("ok", "missing", "error", "invalid")
MESSAGE_MAX = 512                  # docs/security.md, "Limits"
DEFAULT_CAP = Fraction(120)
GRADES = [("S", 100), ("A", 90), ("B", 80), ("C", 70), ("D", 0)]
RUN_TIMEOUT = 60                   # seconds per kpieval run, unless `timeout:`
ADDRESS = re.compile(rb"0x[0-9a-fA-F]{6,}")

csv.field_size_limit(16 * 1024 * 1024)   # formulas may be up to 1 MiB

HOSTILE_DEPARTMENT = "sandbox/hostile"
ORDINARY_DEPARTMENT = "sandbox/ordinary"
HOSTILE_INPUTS = [("x", "3"), ("y", "4")]
HOSTILE_TARGET = "100"

KPI_KEYS = {"expect", "message", "actual", "achievement", "capped", "scoring", "why", "repeat"}
CASE_KEYS = {"args", "runs", "mixed", "stderr", "timeout"}
REPEATABLE = {"message", "repeat", "stderr"}


class BrokenCase(Exception):
    """The case itself is malformed (exit 3)."""


# ---- ordinary KPIs ----------------------------------------------------------
# Plain formulas with exact binary fractions, worked out by hand:
#   3/4*100 = 75, target 75 -> 100 %
#   1/8*100 = 12.5, target 20 -> 62.5 %
#   ratio(5, 16) = 31.25, target 25 -> 125 %, capped 120 %
#   7/32*100 = 21.875, target 25 -> 87.5 %
#   1/2*100 = 50, target 50 -> 100 %   (the ones put between hostile KPIs)
# They sit around (and between) the hostile KPIs; each must come out
# exactly like this whatever the hostile KPIs do.

class Ordinary:
    def __init__(self, kid, name, formula, x, y, target, actual, achievement):
        self.id, self.name, self.formula = kid, name, formula
        self.x, self.y, self.target = x, y, target
        self.actual = actual
        self.achievement = Fraction(achievement)

    def row(self):
        return [self.id, self.name, ORDINARY_DEPARTMENT, "%", "increase", "", self.target,
                self.formula, "", "", ""]

    def expected_fields(self):
        capped = min(self.achievement, DEFAULT_CAP)
        return [self.id, self.name, ORDINARY_DEPARTMENT, "%", "increase", "", self.target,
                self.formula, "x=%s; y=%s" % (self.x, self.y), measure(self.actual),
                two_decimals(self.achievement), two_decimals(capped),
                band_of(self.achievement), "1", "ok", ""]


def ordinary_before():
    return [Ordinary("ord.1", "ordinary 1", "x / y * 100", "3", "4", "75", "75", "100"),
            Ordinary("ord.2", "ordinary 2", "x / y * 100", "1", "8", "20", "12.5", "62.5")]


def ordinary_after():
    return [Ordinary("ord.3", "ordinary 3", "ratio(x, y)", "5", "16", "25", "31.25", "125"),
            Ordinary("ord.4", "ordinary 4", "x / y * 100", "7", "32", "25", "21.875", "87.5")]


def ordinary_between(n):
    return Ordinary("ord.between.%d" % n, "ordinary between %d" % n, "x / y * 100",
                    "1", "2", "50", "50", "100")


def two_decimals(value):
    """Half away from zero on the 15-significant-digit value (formats.md)."""
    d = Decimal(format(float(value), ".15g"))
    return str(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def measure(text):
    """kpis.csv's actual (formats.md): a whole number as it is, else two decimals."""
    value = Decimal(text)
    return text if value == value.to_integral_value() else two_decimals(text)


def band_of(achievement):
    """From the achievement as printed (formats.md, Bands)."""
    printed = Decimal(two_decimals(achievement))
    return "exceeded" if printed > 100 else "met" if printed == 100 else "below"


def grade_of(achievement):
    for name, minimum in GRADES:
        if achievement >= minimum:
            return name
    return ""


# ---- case files -------------------------------------------------------------

class KpiSpec:
    """One KPI of a case: a formula and what must come of it."""

    def __init__(self, kid, path):
        self.id = kid
        self.path = path
        self.formula = ""
        self.expect = None
        self.messages = []
        self.actual = self.achievement = self.capped = None
        self.scoring = ""
        self.why = ""


class Case:
    def __init__(self, path):
        self.path = os.path.abspath(path.rstrip("/"))
        base = os.path.basename(self.path)
        self.name = base[:-4] if base.endswith(".lua") else base
        self.kpis = []
        self.args = []
        self.runs = 1
        self.mixed = True
        self.stderr = []
        self.timeout = RUN_TIMEOUT
        self.plugins = {}          # name -> source path, copied to formulas/
        self.binary_plugins = {}   # name -> source path, compiled to formulas/

    @property
    def stops(self):
        return any(k.expect == "stop" for k in self.kpis)


def parse_header(path):
    """Returns ([(key, value)], body) of a case .lua file."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BrokenCase("%s: not UTF-8 (%s)" % (path, e))
    lines = text.split("\n")
    pairs = []
    i = 0
    while i < len(lines) and lines[i].startswith("--"):
        m = re.match(r"-- ?([a-z-]+):\s?(.*)$", lines[i])
        if m:
            pairs.append([m.group(1), m.group(2).rstrip()])
        elif pairs and pairs[-1][0] == "why":
            pairs[-1][1] += " " + lines[i][2:].strip()
        else:
            raise BrokenCase("%s:%d: header line is not 'key: value'" % (path, i + 1))
        i += 1
    body = "\n".join(lines[i:]).strip("\n")
    return pairs, body


def expand_repeats(spec, repeats, body):
    for value in repeats:
        m = re.match(r"([A-Z][A-Z0-9_]*)\s+(\d+)\s(.*)$", value)
        if not m:
            raise BrokenCase("%s: 'repeat: %s' is not NAME COUNT TEXT" % (spec.path, value))
        name, count, piece = m.group(1), int(m.group(2)), m.group(3)
        if piece.startswith('"'):
            piece = json.loads(piece)
        token = "{{%s}}" % name
        if token not in body:
            raise BrokenCase("%s: repeat %s is not used in the formula" % (spec.path, name))
        body = body.replace(token, piece * count)
    if re.search(r"\{\{[A-Z][A-Z0-9_]*\}\}", body):
        raise BrokenCase("%s: a {{NAME}} has no repeat line" % spec.path)
    return body


def load_kpi(case, path, kid):
    spec = KpiSpec(kid, path)
    pairs, body = parse_header(path)
    repeats = []
    seen = set()
    for key, value in pairs:
        if key not in KPI_KEYS | CASE_KEYS:
            raise BrokenCase("%s: unknown header key '%s'" % (path, key))
        if key in seen and key not in REPEATABLE:
            raise BrokenCase("%s: header key '%s' given twice" % (path, key))
        seen.add(key)
        if key == "expect":
            if value not in STATUSES + ("stop",):
                raise BrokenCase("%s: expect must be ok, missing, error, invalid or stop" % path)
            spec.expect = value
        elif key == "message":
            spec.messages.append(value)
        elif key in ("actual", "achievement", "capped", "scoring", "why"):
            setattr(spec, key, value)
        elif key == "repeat":
            repeats.append(value)
        elif key == "args":
            case.args += shlex.split(value)
        elif key == "runs":
            case.runs = int(value)
        elif key == "mixed":
            case.mixed = not value.startswith("no")
        elif key == "stderr":
            case.stderr.append(value)
        elif key == "timeout":
            case.timeout = int(value)
    if spec.expect is None or not spec.why:
        raise BrokenCase("%s: every case file needs 'expect:' and 'why:'" % path)
    spec.formula = expand_repeats(spec, repeats, body)
    if not spec.formula.strip():
        raise BrokenCase("%s: no formula after the header" % path)
    return spec


def load_case(path):
    case = Case(path)
    if os.path.isfile(case.path):
        if not case.path.endswith(".lua"):
            raise BrokenCase("%s: a case file must end in .lua" % path)
        case.kpis.append(load_kpi(case, case.path, case.name))
    elif os.path.isdir(case.path):
        files = sorted(f for f in os.listdir(case.path) if f.endswith(".lua"))
        for f in files:
            case.kpis.append(load_kpi(case, os.path.join(case.path, f),
                                      "%s.%s" % (case.name, f[:-4])))
        for sub, table in (("formulas", case.plugins), ("binary", case.binary_plugins)):
            d = os.path.join(case.path, sub)
            if os.path.isdir(d):
                for f in sorted(os.listdir(d)):
                    table[f[:-4] if f.endswith(".lua") else f] = os.path.join(d, f)
        if not case.kpis:
            raise BrokenCase("%s: a case folder needs at least one KPI .lua file" % path)
    else:
        raise BrokenCase("%s: no such case" % path)
    if case.stops and any(k.expect != "stop" for k in case.kpis):
        raise BrokenCase("%s: 'expect: stop' applies to the whole case; use it alone" % path)
    if not re.fullmatch(r"[A-Za-z0-9_]+", case.name):
        raise BrokenCase("%s: case names are [A-Za-z0-9_]+" % path)
    return case


# ---- datasets ---------------------------------------------------------------

def binary_chunk(src, dest):
    """A precompiled chunk: luac5.4, else string.dump, else a forged header."""
    if shutil.which("luac5.4"):
        subprocess.run(["luac5.4", "-o", dest, src], check=True)
        return
    if shutil.which("lua5.4"):
        code = ("local f = assert(loadfile(arg[1])) local o = assert(io.open(arg[2], 'wb')) "
                "o:write(string.dump(f)) o:close()")
        subprocess.run(["lua5.4", "-e", code, "-", src, dest], check=True,
                       stdin=subprocess.DEVNULL)
        return
    with open(dest, "wb") as f:  # the header of a 5.4 chunk, then garbage
        f.write(b"\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08" + b"\xff" * 64)


class Layout:
    """The KPIs of one dataset in order: ordinary before, the hostile ones
    with an ordinary KPI between each two, ordinary after."""

    def __init__(self, cases):
        self.cases = cases
        self.entries = []          # Ordinary or KpiSpec, in indicators.csv order
        self.entries += ordinary_before()
        n = 0
        hostile = [k for c in cases for k in c.kpis]
        for i, spec in enumerate(hostile):
            if i:
                n += 1
                self.entries.append(ordinary_between(n))
            self.entries.append(spec)
        self.entries += ordinary_after()

    @property
    def report_order(self):
        """The order of the reports (docs/formats.md): departments in tree
        order (levels compared as bytes, a parent before its children),
        then ids in byte order."""
        def key(e):
            dep = ORDINARY_DEPARTMENT if isinstance(e, Ordinary) else HOSTILE_DEPARTMENT
            return ([lv.encode() for lv in dep.split("/")], e.id.encode())
        return sorted(self.entries, key=key)

    @property
    def ordinary(self):
        return [e for e in self.entries if isinstance(e, Ordinary)]

    @property
    def hostile(self):
        return [e for e in self.entries if isinstance(e, KpiSpec)]

    def write(self, dataset):
        os.makedirs(dataset)
        with open(os.path.join(dataset, "indicators.csv"), "w", newline="",
                  encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["id", "name", "department", "unit", "direction", "baseline",
                        "target", "formula", "weight", "scoring"])
            for e in self.entries:
                if isinstance(e, Ordinary):
                    w.writerow([e.id, e.name, ORDINARY_DEPARTMENT, "%", "increase", "",
                                e.target, e.formula, "", ""])
                else:
                    w.writerow([e.id, "hostile " + e.id, HOSTILE_DEPARTMENT, "%",
                                "increase", "", HOSTILE_TARGET, e.formula, "", e.scoring])
        with open(os.path.join(dataset, "actuals.csv"), "w", newline="",
                  encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["indicator", "input", "value"])
            for e in self.entries:
                pairs = [("x", e.x), ("y", e.y)] if isinstance(e, Ordinary) else HOSTILE_INPUTS
                for name, value in pairs:
                    w.writerow([e.id, name, value])
        plugins = {}
        for c in self.cases:
            for table, binary in ((c.plugins, False), (c.binary_plugins, True)):
                for name, src in table.items():
                    if name in plugins:
                        raise BrokenCase("plugin '%s' comes from two cases" % name)
                    plugins[name] = (src, binary)
        if plugins:
            os.makedirs(os.path.join(dataset, "formulas"))
        for name, (src, binary) in plugins.items():
            dest = os.path.join(dataset, "formulas", name + ".lua")
            if binary:
                binary_chunk(src, dest)
            else:
                shutil.copyfile(src, dest)


def snapshot(root):
    """Every file and folder under root with its type, mode and content hash."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            state[os.path.relpath(p, root)] = ("dir", os.lstat(p).st_mode)
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            st = os.lstat(p)
            with open(p, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            state[os.path.relpath(p, root)] = ("file", st.st_mode, st.st_size, digest)
    return state


# ---- running kpieval --------------------------------------------------------

def proc_stats():
    """(pid, fields after the command name) of every process, from /proc:
    fields[0] is the state, then ppid, pgrp, session ..."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read()
            yield int(entry), stat[stat.rindex(b")") + 2:].split()
        except (OSError, ValueError):
            continue


def session_members(sid):
    """Processes (pid, command) whose session is sid, from /proc."""
    found = []
    for pid, fields in proc_stats():
        try:
            if int(fields[3]) == sid:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    found.append((pid, f.read().replace(b"\0", b" ").decode(
                        "utf-8", "replace").strip()))
        except (OSError, ValueError, IndexError):
            continue
    return found


def children_of(pid):
    kids = []
    for child, fields in proc_stats():
        try:
            if int(fields[1]) == pid:
                kids.append(child)
        except (ValueError, IndexError):
            continue
    return kids


def no_core_files():
    """A worker killed by SIGSEGV must not leave a core file in the
    working folder, which the stray-file check would report."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Run:
    """One kpieval process in its own session, inside a scratch folder."""

    def __init__(self, binary, argv, scratch, timeout, env_extra=None):
        self.scratch = scratch
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": os.path.join(scratch, "home"),
               "TMPDIR": os.path.join(scratch, "tmp"),
               "LANG": "C.UTF-8"}
        for k, v in os.environ.items():  # sanitizer builds (make sanitize)
            if k.startswith(("ASAN_", "UBSAN_", "LSAN_")) or k == "KPIEVAL_NO_CONFINE":
                env[k] = v
        env.update(env_extra or {})
        # KPIEVAL_TEST_WRAPPER (make valgrind) runs the binary under a tool.
        self.argv = shlex.split(os.environ.get("KPIEVAL_TEST_WRAPPER", "")) + [binary] + argv
        self.timeout = timeout
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, cwd=os.path.join(scratch, "cwd"), env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True,
                                     preexec_fn=no_core_files)
        self.rc = None
        self.stdout = self.stderr = b""
        self.hung = False
        self.leftover = []

    def finish(self, timeout=None):
        try:
            self.stdout, self.stderr = self.proc.communicate(
                timeout=self.timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.hung = True
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.stdout, self.stderr = self.proc.communicate()
        self.rc = self.proc.returncode
        self.elapsed = time.monotonic() - self.started
        # Workers must not outlive the run: whatever is left in the
        # session is reported and killed.
        deadline = time.monotonic() + 1.0
        while True:
            self.leftover = session_members(self.proc.pid)
            if not self.leftover or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if self.leftover:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            for pid, _ in self.leftover:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return self


def new_scratch():
    scratch = tempfile.mkdtemp(prefix="kpieval-sandbox.")
    for d in ("cwd", "tmp", "home"):
        os.mkdir(os.path.join(scratch, d))
    return scratch


# ---- checks -----------------------------------------------------------------

class Checker:
    def __init__(self, name):
        self.name = name
        self.failures = []

    def fail(self, what):
        self.failures.append(what)

    def check(self, cond, what):
        if not cond:
            self.fail(what)
        return cond

    def run_basics(self, run, label):
        ok = True
        if os.environ.get("KPIEVAL_TEST_WRAPPER") and re.search(rb"^==\d+== ", run.stderr, re.M):
            self.fail("%s: %s reported errors:\n%s" % (
                label, os.environ["KPIEVAL_TEST_WRAPPER"].split()[0],
                run.stderr.decode("utf-8", "replace")))
            ok = False
        if run.hung:
            self.fail("%s: kpieval did not finish within %d s (killed)" % (label, run.timeout))
            ok = False
        if run.leftover:
            self.fail("%s: processes of kpieval's session still running after it exited: %s"
                      % (label, run.leftover))
        return ok

    def describe(self, run):
        err = run.stderr.decode("utf-8", "replace")
        if len(err) > 3000:
            err = err[:3000] + "\n[... %d more bytes]" % (len(run.stderr) - 3000)
        err = "\n".join(line if len(line) <= 160 else line[:160] + " [...]"
                        for line in err.splitlines())
        return "  command: %s\n  exit: %s\n  stderr:\n%s" % (
            " ".join(shlex.quote(a) for a in run.argv), run.rc,
            "\n".join("    " + line for line in err.splitlines()))


def read_csv(data, label, chk):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        chk.fail("%s is not valid UTF-8: %s" % (label, e))
        text = data.decode("utf-8", "replace")
    if "\0" in text:
        chk.fail("%s holds a NUL byte" % label)
    return list(csv.reader(io.StringIO(text, newline="")))


def finite_or_empty(cell):
    if cell == "":
        return True
    try:
        v = float(cell)
    except ValueError:
        return False
    return v == v and v not in (float("inf"), float("-inf"))


def check_reports(chk, out, layout, label):
    """Exit 0/1 run: every file, every ordinary KPI, every expectation."""
    for f in ("kpis.csv", "departments.csv", "report.json", "departments"):
        chk.check(os.path.exists(os.path.join(out, f)), "%s: %s missing in --out" % (label, f))
    try:
        with open(os.path.join(out, "kpis.csv"), "rb") as f:
            kpis_raw = f.read()
        with open(os.path.join(out, "departments.csv"), "rb") as f:
            deps_raw = f.read()
        with open(os.path.join(out, "report.json"), "rb") as f:
            report_raw = f.read()
    except OSError as e:
        chk.fail("%s: cannot read the reports: %s" % (label, e))
        return
    for fname, data in (("kpis.csv", kpis_raw), ("departments.csv", deps_raw),
                        ("report.json", report_raw)):
        m = ADDRESS.search(data)
        chk.check(not m, "%s: %s shows what looks like an address: %r"
                  % (label, fname, m and m.group(0)))
    try:
        report = json.loads(report_raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        chk.fail("%s: report.json does not parse: %s" % (label, e))
        report = None

    rows = read_csv(kpis_raw, label + ": kpis.csv", chk)
    if not rows or rows[0] != KPIS_HEADER:
        chk.fail("%s: kpis.csv header is %r" % (label, rows[:1]))
        return
    rows = rows[1:]
    bad = [r for r in rows if len(r) != len(KPIS_HEADER)]
    if not chk.check(not bad, "%s: kpis.csv rows with %s fields: %r"
                     % (label, [len(r) for r in bad], bad[:2])):
        return
    by_id = {r[0]: r for r in rows}
    want_ids = [e.id for e in layout.report_order]
    chk.check([r[0] for r in rows] == want_ids,
              "%s: kpis.csv ids %r, expected %r" % (label, [r[0] for r in rows], want_ids))

    for r in rows:
        kid, status, message = r[0], r[STATUS_COL], r[MESSAGE_COL]
        chk.check(status in STATUSES, "%s: %s: unknown status %r" % (label, kid, status))
        chk.check(len(message.encode("utf-8")) <= MESSAGE_MAX,
                  "%s: %s: message is %d bytes (limit %d)"
                  % (label, kid, len(message.encode("utf-8")), MESSAGE_MAX))
        chk.check((message == "") == (status == "ok"),
                  "%s: %s: status %s with message %r" % (label, kid, status, message[:200]))
        for col in (9, 10, 11):
            chk.check(finite_or_empty(r[col]), "%s: %s: %s is %r, not a finite number or empty"
                      % (label, kid, KPIS_HEADER[col], r[col]))

    for e in layout.ordinary:
        got = by_id.get(e.id)
        want = e.expected_fields()
        if got is not None and got != want:
            diff = ["%s=%r (expected %r)" % (KPIS_HEADER[i], got[i], want[i])
                    for i in range(len(want)) if got[i] != want[i]]
            chk.fail("%s: ordinary KPI %s changed: %s" % (label, e.id, "; ".join(diff)))

    for spec in layout.hostile:
        got = by_id.get(spec.id)
        if got is None:
            continue
        status, message = got[STATUS_COL], got[MESSAGE_COL]
        where = "%s: %s (%s)" % (label, spec.id, os.path.basename(spec.path))
        chk.check(status == spec.expect, "%s: status %s, expected %s; message: %r"
                  % (where, status, spec.expect, message[:300]))
        for sub in spec.messages:
            chk.check(sub.lower() in message.lower(),
                      "%s: message %r does not contain %r" % (where, message[:300], sub))
        for key, col in (("actual", 9), ("achievement", 10), ("capped", 11)):
            want = getattr(spec, key)
            if want is not None:
                chk.check(got[col] == want, "%s: %s is %r, expected %r"
                          % (where, KPIS_HEADER[col], got[col], want))

    # departments.csv: the ordinary department exactly, counts elsewhere.
    deps = read_csv(deps_raw, label + ": departments.csv", chk)
    deps_by = {r[0]: r for r in deps[1:] if r}
    ordinary = layout.ordinary
    mean = sum(min(e.achievement, DEFAULT_CAP) for e in ordinary) / len(ordinary)
    n = str(len(ordinary))
    want = [ORDINARY_DEPARTMENT, n, n, "0", "0", "0", "100.00", two_decimals(mean),
            grade_of(mean), ""]
    chk.check(deps_by.get(ORDINARY_DEPARTMENT) == want, "%s: departments.csv row %r, expected %r"
              % (label, deps_by.get(ORDINARY_DEPARTMENT), want))
    counts = {s: sum(1 for k in layout.hostile if k.expect == s) for s in STATUSES}
    want_h = [str(len(layout.hostile))] + [str(counts[s]) for s in STATUSES]
    got_h = deps_by.get(HOSTILE_DEPARTMENT)
    chk.check(got_h is not None and got_h[1:6] == want_h,
              "%s: departments.csv %s counts %r, expected %r"
              % (label, HOSTILE_DEPARTMENT, got_h and got_h[1:6], want_h))
    total = len(layout.entries)
    want_root = [str(total), str(counts["ok"] + len(ordinary))] + want_h[2:]
    got_root = deps_by.get("sandbox")
    chk.check(got_root is not None and got_root[1:6] == want_root,
              "%s: departments.csv sandbox counts %r, expected %r"
              % (label, got_root and got_root[1:6], want_root))

    if isinstance(report, dict):
        got_counts = report.get("counts")
        want_counts = {"kpis": len(rows)}
        for s in STATUSES:
            want_counts[s] = sum(1 for r in rows if r[STATUS_COL] == s)
        chk.check(got_counts == want_counts, "%s: report.json counts %r, kpis.csv says %r"
                  % (label, got_counts, want_counts))
        ids = [k.get("id") for k in report.get("kpis", []) if isinstance(k, dict)]
        chk.check(ids == want_ids, "%s: report.json kpis ids are not in report order" % label)


def check_scratch(chk, scratch, dataset_before, outs, label):
    """Nothing but the --out folders was created or changed."""
    chk.check(snapshot(os.path.join(scratch, "dataset")) == dataset_before,
              "%s: the dataset folder was changed" % label)
    extra = sorted(set(os.listdir(scratch)) - {"dataset", "cwd", "tmp", "home"} - set(outs))
    chk.check(not extra, "%s: created beside --out: %r" % (label, extra))
    for d in ("cwd", "tmp", "home"):
        stray = os.listdir(os.path.join(scratch, d))
        chk.check(not stray, "%s: created in the %s folder: %r" % (label, d, stray))


def evaluate(chk, binary, layout, extra_args, runs_args, timeout, expect_stop, stderr_subs,
             check_all_runs=True):
    """Builds the dataset, runs kpieval once per entry of runs_args, checks
    each run (or, without check_all_runs, the first in full and the others
    only for their exit status and report.json, since compare_outputs
    compares their CSV files with the first's); returns
    {label: (kpis.csv bytes, departments.csv bytes)}."""
    scratch = new_scratch()
    outputs = {}
    try:
        dataset = os.path.join(scratch, "dataset")
        layout.write(dataset)
        before = snapshot(dataset)
        outs = []
        all_ok = all(k.expect == "ok" for k in layout.hostile)
        for i, (label, run_args) in enumerate(runs_args):
            out = os.path.join(scratch, "out%d" % (i + 1))
            outs.append(os.path.basename(out))
            argv = ["run", dataset, "--out", out] + extra_args + run_args
            run = Run(binary, argv, scratch, timeout).finish()
            n_before = len(chk.failures)
            if chk.run_basics(run, label):
                if expect_stop:
                    chk.check(run.rc == 2, "%s: exit status %s, expected 2 (run stops)"
                              % (label, run.rc))
                    chk.check(not os.path.exists(out),
                              "%s: --out exists after a run that had to stop" % label)
                    err = run.stderr.decode("utf-8", "replace")
                    for sub in stderr_subs:
                        chk.check(sub.lower() in err.lower(),
                                  "%s: stderr does not contain %r" % (label, sub))
                else:
                    want_rc = 0 if all_ok else 1
                    chk.check(run.rc == want_rc, "%s: exit status %s, expected %d"
                              % (label, run.rc, want_rc))
                    if run.rc in (0, 1) and (check_all_runs or i == 0):
                        check_reports(chk, out, layout, label)
                    elif run.rc in (0, 1):
                        try:
                            with open(os.path.join(out, "report.json"), "rb") as f:
                                json.loads(f.read().decode("utf-8"))
                        except (OSError, UnicodeDecodeError, ValueError) as e:
                            chk.fail("%s: report.json: %s" % (label, e))
                    if run.rc in (0, 1):
                        try:
                            with open(os.path.join(out, "kpis.csv"), "rb") as f:
                                kpis = f.read()
                            with open(os.path.join(out, "departments.csv"), "rb") as f:
                                deps = f.read()
                            outputs[label] = (kpis, deps)
                        except OSError:
                            pass  # reported by check_reports
            if len(chk.failures) > n_before:
                chk.failures.append(chk.describe(run))
        check_scratch(chk, scratch, before, outs, "after all runs")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return outputs


def compare_outputs(chk, outputs):
    labels = list(outputs)
    for other in labels[1:]:
        for i, fname in enumerate(("kpis.csv", "departments.csv")):
            a, b = outputs[labels[0]][i], outputs[other][i]
            if a != b:
                la, lb = a.decode("utf-8", "replace").splitlines(), \
                    b.decode("utf-8", "replace").splitlines()
                diff = [(x, y) for x, y in zip(la, lb) if x != y][:3]
                chk.fail("%s differs between '%s' and '%s': %s"
                         % (fname, labels[0], other, diff))


def finish(chk):
    if chk.failures:
        for f in chk.failures:
            print("FAIL %s: %s" % (chk.name, f) if not f.startswith("  ") else f)
        return 1
    print("PASS %s" % chk.name)
    return 0


# ---- commands ---------------------------------------------------------------

def cmd_case(path, binary):
    case = load_case(path)
    chk = Checker(case.name)
    layout = Layout([case])
    runs = [("run %d" % (i + 1), []) for i in range(case.runs)]
    outputs = evaluate(chk, binary, layout, case.args, runs, case.timeout, case.stops,
                       case.stderr)
    if case.runs > 1:
        compare_outputs(chk, outputs)
    return finish(chk)


def cmd_mixed(cases_dir, binary):
    chk = Checker("mixed_jobs")
    cases = []
    for entry in sorted(os.listdir(cases_dir)):
        if entry.startswith(".") or entry.endswith(".md"):
            continue
        case = load_case(os.path.join(cases_dir, entry))
        if case.mixed and not case.stops and not case.args:
            cases.append(case)
    layout = Layout(cases)
    runs = [("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"]),
            ("--jobs 3", ["--jobs", "3"]), ("default jobs", []),
            ("--in-process", ["--in-process"])]
    print("mixed: %d cases, %d KPIs" % (len(cases), len(layout.entries)))
    outputs = evaluate(chk, binary, layout, [], runs, 120, False, [], check_all_runs=False)
    compare_outputs(chk, outputs)
    return finish(chk)


HANG_FORMULA = "string.find(string.rep('a', 5000), string.rep('a*', 20) .. 'b')"


def cmd_kill_worker(signame, jobs, binary):
    """A KPI hangs in C with --time-limit 60; after about a second every
    child of kpieval gets the signal (SIGKILL, or SIGSEGV as a stand-in
    for a crash of the Lua VM). The run must finish long before the time
    limit: that KPI `error` naming the worker and the signal, every other
    KPI exactly as usual, exit 1."""
    signum = getattr(signal, signame)
    chk = Checker("worker %s, --jobs %s" % (signame, jobs))
    hang = KpiSpec("hang", "(kill-worker)")
    hang.formula = HANG_FORMULA
    hang.expect = "error"
    hang.messages = ["worker", signame]
    layout = Layout([])
    layout.entries = ordinary_before() + [hang] + [ordinary_between(i) for i in range(1, 11)] \
        + ordinary_after()
    scratch = new_scratch()
    try:
        dataset = os.path.join(scratch, "dataset")
        layout.write(dataset)
        before = snapshot(dataset)
        out = os.path.join(scratch, "out")
        argv = ["run", dataset, "--out", out, "--time-limit", "60", "--jobs", jobs]
        # Under ASan a SIGSEGV would be caught and turned into exit 1.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env_extra = {"ASAN_OPTIONS": (asan + ":" if asan else "") + "handle_segv=0"}
        run = Run(binary, argv, scratch, 45, env_extra)
        killed = []
        start = time.monotonic()
        while time.monotonic() - start < 10 and run.proc.poll() is None:
            kids = children_of(run.proc.pid)
            if kids and time.monotonic() - start >= 1.0:
                for pid in kids:
                    try:
                        os.kill(pid, signum)
                        killed.append(pid)
                    except OSError:
                        pass
                break
            time.sleep(0.05)
        run.finish(timeout=30)
        label = "--jobs %s" % jobs
        if chk.run_basics(run, label):
            if not killed:
                chk.fail("%s: no child process of kpieval to kill (exit %s after %.1f s)"
                         % (label, run.rc, run.elapsed))
            else:
                chk.check(run.elapsed < 30, "%s: took %.1f s after the kill" % (label, run.elapsed))
                chk.check(run.rc == 1, "%s: exit status %s, expected 1" % (label, run.rc))
                if run.rc in (0, 1):
                    check_reports(chk, out, layout, label)
        if chk.failures:
            chk.failures.append(chk.describe(run))
        elif killed:
            print("sent %s to %d worker(s) %s; kpieval finished after %.1f s"
                  % (signame, len(killed), killed, run.elapsed))
        check_scratch(chk, scratch, before, ["out"], label)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return finish(chk)


def main(argv):
    try:
        want = {"case": 4, "mixed": 4, "kill-worker": 5}
        if len(argv) >= 2 and want.get(argv[1]) == len(argv):
            binary = os.path.abspath(argv[-1]) if "/" in argv[-1] else shutil.which(argv[-1])
            if not binary or not os.access(binary, os.X_OK):
                print("sandbox_test: kpieval binary '%s' not found" % argv[-1], file=sys.stderr)
                return 3
            if argv[1] == "case":
                return cmd_case(argv[2], binary)
            if argv[1] == "mixed":
                return cmd_mixed(argv[2], binary)
            if argv[2] not in ("SIGKILL", "SIGSEGV", "SIGTERM", "SIGABRT"):
                print("sandbox_test: kill-worker takes SIGKILL, SIGSEGV, SIGTERM or SIGABRT",
                      file=sys.stderr)
                return 3
            return cmd_kill_worker(argv[2], argv[3], binary)
    except BrokenCase as e:
        print("sandbox_test: broken case: %s" % e, file=sys.stderr)
        return 3
    print(__doc__, file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
