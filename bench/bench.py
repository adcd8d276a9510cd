#!/usr/bin/python3
"""Benchmark kpieval against its peers and write docs/benchmarks.md.

Run through `make bench` (which builds kpieval and calls bench/run.sh, which
installs what it can and then runs this file). Standard library only.

Environment:
  BENCH_SIZES    KPI counts, default "10000 100000 1000000"
  BENCH_10M=1    also 10000000 (about 1.3 GB of input, 11 GB of kpieval output)
  BENCH_RUNS     runs per tool and size, default 3; the table shows the median
  BENCH_DIR      scratch folder for data and outputs, default /tmp/kpieval-bench
  BENCH_SEED     seed for `kpieval generate`, default: kpieval's own default
  BENCH_TIMEOUT  seconds before one run is killed, default 1800
  BENCH_TOOLS    only these tool keys, e.g. "kpieval-j1 kpieval floor"
  BENCH_PROFILE=0  skip the perf profile
  BENCH_REPORT   where to write the report, default docs/benchmarks.md
  BENCH_KEEP=1   keep the outputs of the last run of each tool
  BENCH_KPIEVAL  the kpieval binary, default build/kpieval (make bench passes $(BUILD))

Each run: the output folder is removed, the 1-minute load average read, the
command started in its own session under GNU time (`/usr/bin/time -f "%M %U
%S"`, apt package `time`) for the peak resident set and the user+system CPU
time, with the wall time taken here around it (perf_counter, finer than
time's %e). ru_maxrss is the largest single process among the command and
the children it waited for, not a sum. Without GNU time the harness's own
wait4() gives them, and the peak RSS then also counts the harness's size at
fork time. Runs go round-robin (every tool once,
then every tool again) so that changes in the machine's load fall on all
tools alike.
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
import check  # noqa: E402  (bench/check.py)

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"


def env(name, default):
    value = os.environ.get(name, "").strip()
    return value if value else default


SIZES = [int(s) for s in env("BENCH_SIZES", "10000 100000 1000000").split()]
if env("BENCH_10M", "0") == "1" and 10_000_000 not in SIZES:
    SIZES.append(10_000_000)
SIZES.sort()
RUNS = max(1, int(env("BENCH_RUNS", "3")))
WORK = os.path.abspath(env("BENCH_DIR", "/tmp/kpieval-bench"))
SEED = env("BENCH_SEED", "")
TIMEOUT = float(env("BENCH_TIMEOUT", "1800"))
ONLY = set(env("BENCH_TOOLS", "").split())
PROFILE = env("BENCH_PROFILE", "1") != "0"
REPORT = os.path.abspath(env("BENCH_REPORT", os.path.join(ROOT, "docs", "benchmarks.md")))
KEEP = env("BENCH_KEEP", "0") == "1"
CPUS = os.cpu_count() or 1
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
KPIEVAL = os.path.abspath(env("BENCH_KPIEVAL", os.path.join(ROOT, "build", "kpieval")))


def say(text):
    print(f"bench: {text}", flush=True)


def output_of(argv, cwd=None, timeout=60):
    """First line of a command's output, or '' when it fails."""
    try:
        p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return ""
    text = (p.stdout or p.stderr).strip()
    return text.splitlines()[0].strip() if p.returncode == 0 and text else ""


def output_of_all(argv):
    """Everything a command prints, stdout and stderr, whatever its exit."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return p.stdout + p.stderr


# ---- the tools ---------------------------------------------------------------

class Tool:
    def __init__(self, key, label, argv, *, exit_ok=(0,), env=None, makes_dir=True,
                 checked=True, group="peer"):
        self.key, self.label, self.argv = key, label, argv
        self.exit_ok, self.env, self.makes_dir = exit_ok, env, makes_dir
        self.checked, self.group = checked, group
        self.note = ""  # why it was skipped, when it was
        self.version = ""

    def command(self, data, out):
        return self.argv(data, out)


def peer(rel):
    return os.path.join(HERE, "peers", rel)


FLOOR = os.path.join(WORK, "floor")
TOOLS = [
    Tool("kpieval-j1", "kpieval run --jobs 1",
         lambda d, o: [KPIEVAL, "run", d, "--out", o, "--quiet", "--jobs", "1"],
         exit_ok=(0, 1), makes_dir=False, group="kpieval"),
    Tool("kpieval", f"kpieval run --jobs {CPUS} (default)",
         lambda d, o: [KPIEVAL, "run", d, "--out", o, "--quiet", "--jobs", str(CPUS)],
         exit_ok=(0, 1), makes_dir=False, checked=False, group="kpieval"),
    Tool("kpieval-csv", f"kpieval run --jobs {CPUS} --reports kpis.csv,departments.csv",
         lambda d, o: [KPIEVAL, "run", d, "--out", o, "--quiet", "--jobs", str(CPUS),
                       "--reports", "kpis.csv,departments.csv"],
         exit_ok=(0, 1), makes_dir=False, group="kpieval"),
    Tool("kpieval-check", f"kpieval check --evaluate --jobs {CPUS} (no output files)",
         lambda d, o: [KPIEVAL, "check", d, "--evaluate", "--quiet", "--jobs", str(CPUS)],
         exit_ok=(0, 1), makes_dir=False, checked=False, group="kpieval"),
    Tool("floor", "C floor (libcsv, cc -O2)", lambda d, o: [FLOOR, d, o]),
    Tool("lua54", "Lua 5.4 script", lambda d, o: ["lua5.4", peer("kpi.lua"), d, o]),
    Tool("luajit", "same script, LuaJIT", lambda d, o: ["luajit", peer("kpi.lua"), d, o]),
    Tool("pandas", "pandas (vectorised)", lambda d, o: [PYTHON, peer("kpi_pandas.py"), d, o]),
    Tool("duckdb", "DuckDB SQL (node)", lambda d, o: ["node", peer("kpi_duckdb.mjs"), d, o]),
    Tool("gawk", "gawk", lambda d, o: ["gawk", "-v", f"out={o}", "-f", peer("kpi.awk"),
                                        f"{d}/actuals.csv", f"{d}/indicators.csv"],
         env={"LC_ALL": "C"}),
]
BY_KEY = {t.key: t for t in TOOLS}
REFERENCE = "kpieval"


def find_tools():
    """Sets each tool's note (why skipped) and version."""
    kpieval_version = output_of([KPIEVAL, "version"])
    for t in TOOLS:
        if t.group == "kpieval":
            t.version = kpieval_version
            if not kpieval_version:
                t.note = f"{KPIEVAL} does not run (make build)"
    if kpieval_version and "--reports" not in output_of_all([KPIEVAL, "help"]):
        BY_KEY["kpieval-csv"].note = "this kpieval has no --reports option"
    floor = BY_KEY["floor"]
    os.makedirs(WORK, exist_ok=True)
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        floor.note = "no C compiler"
    else:
        p = subprocess.run([cc, "-O2", "-std=c11", "-o", FLOOR, peer("floor.c"), "-lcsv", "-lm"],
                           capture_output=True, text=True)
        if p.returncode:
            floor.note = "does not build (libcsv-dev installed?): " + \
                (p.stderr.strip().splitlines() or ["?"])[-1]
        floor.version = output_of([cc, "--version"]) + ", libcsv " + \
            output_of(["dpkg-query", "-W", "-f=${Version}", "libcsv-dev"])
    for key, exe, version_argv in (("lua54", "lua5.4", ["lua5.4", "-v"]),
                                   ("luajit", "luajit", ["luajit", "-v"]),
                                   ("gawk", "gawk", ["gawk", "--version"])):
        if not shutil.which(exe):
            BY_KEY[key].note = f"`{exe}` not installed (apt-get install {exe})"
        else:
            BY_KEY[key].version = output_of(version_argv)
    pandas = BY_KEY["pandas"]
    v = output_of([PYTHON, "-c", "import sys, pandas, numpy; print('Python', "
                   "sys.version.split()[0], 'pandas', pandas.__version__, 'numpy', "
                   "numpy.__version__)"])
    if v:
        pandas.version = v
    else:
        pandas.note = f"pandas not importable by {PYTHON} (apt-get install python3-pandas)"
    duck = BY_KEY["duckdb"]
    if not shutil.which("node"):
        duck.note = "`node` not installed"
    elif not os.path.isdir(os.path.join(HERE, "node_modules", "@duckdb", "node-api")):
        duck.note = "@duckdb/node-api not installed in bench/node_modules (npm unreachable?)"
    else:
        v = output_of(["node", "--input-type=module", "-e",
                       "import { DuckDBInstance } from '@duckdb/node-api';"
                       "const c = await (await DuckDBInstance.create(':memory:')).connect();"
                       "const r = await c.runAndReadAll('SELECT version()');"
                       "console.log('DuckDB', r.getRows()[0][0]);"], cwd=HERE)
        if v:
            duck.version = f"{v} via @duckdb/node-api, node {output_of(['node', '--version'])}"
        else:
            duck.note = "@duckdb/node-api does not load"
    for t in TOOLS:
        if ONLY and t.key not in ONLY and t.key != REFERENCE:
            t.note = t.note or "left out (BENCH_TOOLS)"


# ---- measuring -----------------------------------------------------------------

def measure(argv, extra_env, stderr_path):
    """One run: wall s, CPU s, peak RSS KiB, exit code, load before, timed out.

    Through GNU time when it is there: a child's ru_maxrss starts from the
    high-water mark of the process it was forked from, and this harness grows
    to hundreds of MiB while it holds kpieval's output for the checks; forked
    from the small `time` process instead, the command's peak is its own."""
    run_env = dict(os.environ, **(extra_env or {}))
    usage_path = stderr_path + ".time"
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M %U %S", "-o", usage_path] + argv
    load = os.getloadavg()[0]
    killed = threading.Event()
    with open(stderr_path, "wb") as err:
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, env=run_env, start_new_session=True)

        def kill():
            killed.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the session started above
            except ProcessLookupError:
                pass

        timer = threading.Timer(TIMEOUT, kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": usage.ru_maxrss,
              "rc": p.returncode, "load": load, "timed_out": killed.is_set()}
    if GNU_TIME:
        try:
            # "Command exited with non-zero status N" may come first.
            with open(usage_path) as f:
                rss, user, system = f.read().split("\n")[-2].split()
            result["rss_kib"], result["cpu"] = int(rss), float(user) + float(system)
        except (OSError, ValueError, IndexError):
            result["rss_kib"] = 0  # killed: `time` wrote no usage
        if os.path.exists(usage_path):
            os.remove(usage_path)
    return result


def tail(path, lines=3):
    try:
        with open(path, errors="replace") as f:
            return " / ".join(f.read().strip().splitlines()[-lines:])
    except OSError:
        return ""


def generate(n):
    data = os.path.join(WORK, "data", str(n))
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(os.path.dirname(data), exist_ok=True)
    argv = [KPIEVAL, "generate", str(n), data] + (["--seed", SEED] if SEED else [])
    say(" ".join(argv))
    start = time.perf_counter()
    subprocess.run(argv, check=True)
    return data, time.perf_counter() - start


def run_size(n, results):
    data, gen_seconds = generate(n)
    outs = os.path.join(WORK, "out", str(n))
    size = {"n": n, "generate_s": gen_seconds, "input_bytes": sum(
        os.path.getsize(os.path.join(data, f)) for f in ("indicators.csv", "actuals.csv")),
        "tools": {}}
    active = [t for t in TOOLS if not t.note]
    for t in TOOLS:
        size["tools"][t.key] = {"runs": [], "failure": t.note and "skipped"}
    for r in range(RUNS):
        for t in active:
            rec = size["tools"][t.key]
            if rec["failure"]:
                continue
            prior = results.get("failed_before", {}).get(t.key)
            if prior:
                rec["failure"] = f"not run: {prior} at a smaller size"
                continue
            out = os.path.join(outs, t.key)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(outs, exist_ok=True)
            if t.makes_dir:
                os.makedirs(out)
            m = measure(t.command(data, out), t.env, os.path.join(outs, f"{t.key}.stderr"))
            if m["timed_out"] or m["rc"] not in t.exit_ok:
                why = (f"timed out after {TIMEOUT:g} s" if m["timed_out"]
                       else f"exit {m['rc']}: {tail(os.path.join(outs, f'{t.key}.stderr'))}")
                rec["failure"] = why
                results.setdefault("failed_before", {})[t.key] = \
                    "timed out" if m["timed_out"] else "failed"
                say(f"{n:>9} {t.key:<14} run {r + 1}: FAILED ({why})")
                continue
            rec["runs"].append(m)
            say(f"{n:>9} {t.key:<14} run {r + 1}/{RUNS}: {m['wall']:8.3f} s wall "
                f"{m['cpu']:8.3f} s cpu {m['rss_kib'] / 1024:8.1f} MiB  load {m['load']:.2f}")

    # Agreement with kpieval's own output.
    ref_rec = size["tools"][REFERENCE]
    reference = None
    if ref_rec["runs"] and not ref_rec["failure"]:
        try:
            reference = check.Reference(os.path.join(outs, REFERENCE))
        except (OSError, ValueError) as e:
            ref_rec["failure"] = f"its output could not be read: {e}"
    for t in TOOLS:
        rec = size["tools"][t.key]
        if not t.checked or rec["failure"] or not rec["runs"]:
            continue
        if reference is None:
            rec["check"] = {"kpis": None, "departments": None, "examples": ["no reference"]}
            continue
        bad_kpis, bad_deps, examples = reference.compare(os.path.join(outs, t.key))
        rec["check"] = {"kpis": bad_kpis, "departments": bad_deps, "examples": examples}
        say(f"{n:>9} {t.key:<14} " + ("agrees" if not (bad_kpis or bad_deps) else
                                      f"DISAGREES on {bad_kpis} KPIs, {bad_deps} departments"))
        for line in examples:
            say(f"{'':>9}   {line}")
    ref_out = os.path.join(outs, REFERENCE)
    if os.path.isfile(os.path.join(ref_out, "kpis.csv")):
        size["kpieval_out_bytes"] = sum(os.path.getsize(os.path.join(d, f))
                                        for d, _, files in os.walk(ref_out) for f in files)
        size["kpis_csv_bytes"] = os.path.getsize(os.path.join(ref_out, "kpis.csv"))
    if reference is not None:
        size["kpis"] = len(reference.kpis.rows)
        size["departments"] = len(reference.departments.rows)
    if not KEEP:
        shutil.rmtree(outs, ignore_errors=True)
    return size


def profile(n):
    """Top of `perf report` for kpieval --in-process at size n, or why not."""
    if not shutil.which("perf"):
        return None, "perf is not installed (apt-get install linux-perf)"
    data = os.path.join(WORK, "data", str(n))
    if not os.path.isdir(data):
        data, _ = generate(n)
    out = os.path.join(WORK, "out", "profile")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    perf_data = os.path.join(WORK, "perf.data")
    argv = [KPIEVAL, "run", data, "--out", out, "--quiet", "--in-process"]
    record = ["perf", "record", "-F", "999", "-g", "-o", perf_data, "--"] + argv
    say(" ".join(record))
    p = subprocess.run(record, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    shutil.rmtree(out, ignore_errors=True)
    if p.returncode not in (0, 1) or not os.path.exists(perf_data):
        return None, "perf record failed: " + " / ".join(p.stderr.strip().splitlines()[-2:])
    sections = []
    for title, extra, limit in (
            ("by shared object", ["--fields", "overhead,dso"], 12),
            ("by function (self time)", ["--fields", "overhead,sym,dso"], 30)):
        q = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children",
                            "-g", "none", "--percent-limit", "0.7"] + extra,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        lines = [l.rstrip() for l in q.stdout.splitlines() if l.strip() and not l.startswith("#")]
        if q.returncode or not lines:
            return None, "perf report failed: " + " / ".join(q.stderr.strip().splitlines()[-2:])
        sections.append((title, lines[:limit]))
    os.remove(perf_data)
    return {"n": n, "command": " ".join(record), "sections": sections}, None


# ---- the machine ---------------------------------------------------------------

def machine():
    info = {"cores": CPUS, "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((l.split(":", 1)[1].strip() for l in f
                                if l.startswith("model name")), "?")
    except OSError:
        info["cpu"] = "?"
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
            info["memory"] = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["memory"] = "?"
    try:
        with open("/etc/os-release") as f:
            fields = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
        info["os"] = fields.get("PRETTY_NAME", "?").strip('"')
    except OSError:
        info["os"] = "?"
    try:
        with open("/etc/debian_version") as f:
            info["os"] += f" (debian_version {f.read().strip()})"
    except OSError:
        pass
    commit = output_of(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--", "engine",
                            "include", "formulas", "CMakeLists.txt"],
                           capture_output=True).returncode
    info["commit"] = (commit or "?") + (" with uncommitted changes in engine/ or include/"
                                        if dirty == 1 else "")
    info["perf"] = output_of(["perf", "--version"]) if shutil.which("perf") else ""
    return info


# ---- the report ----------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def fmt_s(x):
    if x is None:
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def fmt_n(n):
    return f"{n:,}"


def stats(rec):
    runs = rec["runs"]
    if not runs or rec["failure"]:
        return None
    walls = [r["wall"] for r in runs]
    return {"median": median(walls), "min": min(walls), "max": max(walls),
            "cpu": median([r["cpu"] for r in runs]),
            "rss": max(r["rss_kib"] for r in runs) / 1024,
            "load": (min(r["load"] for r in runs), max(r["load"] for r in runs))}


def agreement(t, rec):
    if t.key == REFERENCE:
        return "reference"
    if not t.checked:
        return "n/a (writes nothing)" if t.key == "kpieval-check" else "n/a"
    c = rec.get("check")
    if not c:
        return "–"
    if c["kpis"] is None:
        return "unchecked (no reference)"
    if c["kpis"] or c["departments"]:
        return f"**NO**: {c['kpis']} KPIs, {c['departments']} departments differ"
    return "yes"


def ratio_text(x):
    return "–" if x is None else f"{x:.2f}×"


def render(info, sizes, prof, prof_note, started, finished):
    by_n = {s["n"]: s for s in sizes}
    largest = max(by_n) if by_n else None
    judge_n = largest

    def st(n, key):
        s = by_n.get(n)
        return stats(s["tools"][key]) if s else None

    def med(n, key):
        s = st(n, key)
        return s["median"] if s else None

    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w(f"Written by `make bench` (bench/bench.py) on {finished:%Y-%m-%d %H:%M} UTC; "
      f"the run took {(finished - started).total_seconds() / 60:.1f} minutes. "
      "Do not edit by hand: run `make bench` again (bench/README.md says how).")
    w("")
    w("kpieval against programs that compute the same numbers from the same files: "
      "a C floor, the same Lua script under Lua 5.4 and LuaJIT, pandas, DuckDB and gawk. "
      "Every tool reads `indicators.csv` and `actuals.csv` made by `kpieval generate`, "
      "computes each KPI's actual, status, achievement and capped achievement and each "
      "department's counts, weighted achievement and grade, and writes `kpis.csv` and "
      "`departments.csv`; bench/check.py compares them with kpieval's, row by row on id "
      "and department.")
    w("")

    # ---- targets
    w("## Targets")
    w("")
    if judge_n is None:
        w("Nothing was measured.")
    else:
        w(f"Judged at the largest size measured, {fmt_n(judge_n)} KPIs, on the median wall "
          f"time of {RUNS} run(s); `kpieval` is the default `kpieval run` "
          f"(`--jobs {CPUS}`, one worker per core). Beside each ratio: the same ratio on "
          "each tool's fastest run (on a shared machine, the run least slowed by others) "
          "and the ratios at the other sizes.")
        w("")
        for line in targets(by_n, judge_n, st, med):
            w(line)
    w("")

    # ---- the hand-written analysis of the misses, kept beside the harness
    analysis = os.path.join(ROOT, "bench", "analysis.md")
    if os.path.exists(analysis):
        with open(analysis, encoding="utf-8") as f:
            w(f.read().rstrip("\n"))
        w("")

    # ---- machine
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| CPU | {info['cpu']} |")
    w(f"| cores | {info['cores']} |")
    w(f"| memory | {info['memory']} |")
    w(f"| kernel | {info['kernel']} |")
    w(f"| system | {info['os']} |")
    w(f"| kpieval | {BY_KEY['kpieval'].version or '?'}, commit {info['commit']}, "
      "CMake RelWithDebInfo (-O2 -g) |")
    for t in TOOLS:
        if t.group != "peer":
            continue
        w(f"| {t.label} | {t.version or t.note or '?'} |")
    if info["perf"]:
        w(f"| perf | {info['perf']} |")
    loads = [r["load"] for s in sizes for rec in s["tools"].values() for r in rec["runs"]]
    if loads:
        w(f"| 1-minute load average before the runs | {min(loads):.2f} to {max(loads):.2f} "
          f"(median {median(loads):.2f}) on {CPUS} cores |")
    w("")
    if loads and max(loads) > 0.5:
        w(f"The machine was shared while this ran: the load average before a run went up to "
          f"{max(loads):.2f} on {CPUS} cores, so wall times include waiting for a core. The "
          "CPU column (user + system time of the process and its children) is less "
          "sensitive to that, and the runs are interleaved round-robin so that the load "
          "falls on every tool alike; compare the ratios more than the absolute times.")
        w("")

    # ---- commands
    w("## What was run")
    w("")
    seed = f" --seed {SEED}" if SEED else ""
    w(f"Data, once per size, into `{WORK}/data/N` (warm in the page cache for every run):")
    w("")
    w("```sh")
    w(f"build/kpieval generate N {WORK}/data/N{seed}")
    w("```")
    w("")
    w(f"Then {RUNS} round(s), each running every tool once per size; `OUT` is removed "
      "before each run (the peers get it created empty):")
    w("")
    w("| key | command |")
    w("|---|---|")
    for t in TOOLS:
        argv = t.command("DIR", "OUT")
        text = " ".join(a.replace(ROOT + "/", "").replace(WORK + "/", "$BENCH_DIR/")
                        for a in argv)
        if t.env:
            text = " ".join(f"{k}={v}" for k, v in t.env.items()) + " " + text
        w(f"| {t.key} | `{text}` |")
    w("")
    w("Notes on fairness:")
    w("")
    written = [s for s in sizes if s.get("kpis_csv_bytes")]
    volume = ""
    if written:
        s = written[-1]
        volume = (f"; at {fmt_n(s['n'])} KPIs {s['kpieval_out_bytes'] / 1e6:,.0f} MB in all, "
                  f"{s['kpieval_out_bytes'] / s['kpis_csv_bytes']:.1f} times the "
                  f"{s['kpis_csv_bytes'] / 1e6:,.0f} MB of `kpis.csv`")
    w("- kpieval writes more than the peers: besides `kpis.csv` and `departments.csv` "
      "also `report.json` and one CSV per department (each KPI again in its team's and its "
      f"headquarters' file{volume}). The `--reports kpis.csv,departments.csv` row "
      "writes what the peers write; the `kpieval check` "
      "row evaluates and rolls up without writing anything. The C floor writes "
      "`kpis.csv` in full (inputs column, reformatted numbers, short messages); the "
      "other peers copy the text columns through and leave `inputs` and `message` empty.")
    w("- kpieval runs each formula as Lua in a sandbox, in supervised worker processes; "
      "the peers recognise the generator's eight formula shapes and compute them natively. "
      "That is the point of the comparison: what the generality and the isolation cost.")
    w("- DuckDB uses its default thread count (one per core); the other peers are "
      "single-threaded. Peak RSS is the largest single process (kpieval's workers and "
      "its supervisor are not added up).")
    if not GNU_TIME:
        w("- /usr/bin/time (apt package `time`) was not installed: the peak RSS comes from "
          "the harness's own wait4() and also counts the harness's size when it forked the "
          "command, so it is an upper bound.")
    w("- The DuckDB peer uses `@duckdb/node-api`, DuckDB's current Node client, whose "
      "binaries come inside the npm packages; the older `duckdb` package fetches its binary "
      "from outside the npm registry and otherwise compiles DuckDB from source.")
    w("")

    # ---- results
    w("## Results")
    w("")
    for n in sorted(by_n):
        s = by_n[n]
        floor = med(n, "floor")
        w(f"### {fmt_n(n)} KPIs")
        w("")
        extra = ""
        if "departments" in s:
            extra = f", {fmt_n(s['departments'])} departments"
        w(f"Input {s['input_bytes'] / 1e6:.1f} MB{extra}; generated in "
          f"{s['generate_s']:.2f} s.")
        w("")
        w("| tool | median s | min–max s | CPU s | peak RSS MiB | × C floor | agrees | "
          "load before |")
        w("|---|--:|--:|--:|--:|--:|---|---|")
        for t in TOOLS:
            rec = s["tools"][t.key]
            x = stats(rec)
            if x is None:
                why = t.note or rec["failure"] or "no run"
                w(f"| {t.label} | – | – | – | – | – | {why} | |")
                continue
            ratio = ratio_text(x["median"] / floor) if floor else "–"
            w(f"| {t.label} | {fmt_s(x['median'])} | {fmt_s(x['min'])}–{fmt_s(x['max'])} | "
              f"{fmt_s(x['cpu'])} | {x['rss']:.1f} | {ratio} | {agreement(t, rec)} | "
              f"{x['load'][0]:.2f}–{x['load'][1]:.2f} |")
        w("")
        problems = [(t, s["tools"][t.key]["check"]["examples"]) for t in TOOLS
                    if s["tools"][t.key].get("check", {}).get("examples")]
        if problems:
            w("Differences found by bench/check.py (first few per tool):")
            w("")
            for t, examples in problems:
                for e in examples:
                    w(f"- {t.label}: {e}")
            w("")

    # ---- profile
    w("## Profile")
    w("")
    if prof:
        command = prof["command"].replace(WORK + "/", "$BENCH_DIR/").replace(ROOT + "/", "")
        w(f"`{command}`: kpieval evaluating "
          f"in one process (like `--jobs 1`, without the worker supervision) at "
          f"{fmt_n(prof['n'])} KPIs, sampled at 999 Hz. Top of `perf report --no-children`:")
        w("")
        for title, body in prof["sections"]:
            w(f"{title}:")
            w("")
            w("```")
            for line in body:
                w(line)
            w("```")
            w("")
    else:
        w(f"Not available: {prof_note}.")
        w("")
    return "\n".join(lines) + "\n"


def targets(by_n, n, st, med):
    """The issue's targets as a checklist, judged at size n on medians; the
    ratio on the fastest run of each tool is shown beside it, since on a
    shared machine the fastest run is the one least slowed by others."""
    out = []

    def fast(m, key):
        x = st(m, key)
        return x["min"] if x else None

    def div(a, b):
        return a / b if a is not None and b else None

    def others(fn):
        parts = [f"{fmt_n(m)}: {ratio_text(fn(m))}" for m in sorted(by_n)
                 if m != n and fn(m) is not None]
        return f" Other sizes: {', '.join(parts)}." if parts else ""

    def fastest(r):
        return f" On the fastest runs: {r:.2f}×." if r is not None else ""

    def line(met, text):
        if met is None:
            out.append(f"- [ ] not measured: {text}")
        else:
            out.append(f"- [{'x' if met else ' '}] **{'met' if met else 'MISSED'}**: {text}")

    k = med(n, "kpieval")
    floor = med(n, "floor")
    r = div(k, floor)
    if r is None:
        line(None, "kpieval at most 1.5× the C floor")
    else:
        need = 1.5 * floor
        line(r <= 1.5, f"kpieval at most 1.5× the C floor: **{r:.2f}×** ({fmt_s(k)} s against "
             f"{fmt_s(floor)} s)" + ("." if r <= 1.5 else
                                     f"; missed by {r / 1.5:.2f}×: kpieval would have to "
                                     f"take at most {fmt_s(need)} s, "
                                     f"{(1 - need / k) * 100:.0f}% less.")
             + fastest(div(fast(n, "kpieval"), fast(n, "floor")))
             + others(lambda m: div(med(m, "kpieval"), med(m, "floor"))))
        for key, what in (("kpieval-j1", "with `--jobs 1`"),
                          ("kpieval-csv", "writing only kpis.csv and departments.csv, as the "
                                          "peers do (`--reports`)"),
                          ("kpieval-check", "`kpieval check`, writing nothing")):
            x = div(med(n, key), floor)
            if x is not None:
                out.append(f"  - {what}: {x:.2f}× the floor ({fmt_s(med(n, key))} s; "
                           f"fastest runs {div(fast(n, key), fast(n, 'floor')):.2f}×)")
    for key, name, want in (("duckdb", "DuckDB", 2.0), ("pandas", "pandas", 4.0)):
        r = div(med(n, key), k)
        if r is None:
            line(None, f"at least {want:g}× faster than {name}"
                 + (f" ({BY_KEY[key].note})" if BY_KEY[key].note else ""))
            continue
        line(r >= want, f"at least {want:g}× faster than {name}: **{r:.2f}×** "
             f"({name} {fmt_s(med(n, key))} s, kpieval {fmt_s(k)} s)"
             + ("." if r >= want else f"; missed by {want / r:.2f}×: kpieval would have to take "
                f"at most {fmt_s(med(n, key) / want)} s.")
             + fastest(div(fast(n, key), fast(n, "kpieval")))
             + others(lambda m, key=key: div(med(m, key), med(m, "kpieval"))))
    r = div(med(n, "kpieval-j1"), k)
    if r is None:
        line(None, f"--jobs {CPUS} at least 1.6× faster than --jobs 1")
    else:
        line(r >= 1.6, f"`--jobs {CPUS}` at least 1.6× faster than `--jobs 1`: **{r:.2f}×** "
             f"({fmt_s(med(n, 'kpieval-j1'))} s → {fmt_s(k)} s)"
             + ("." if r >= 1.6 else f"; missed by {1.6 / r:.2f}×.")
             + fastest(div(fast(n, "kpieval-j1"), fast(n, "kpieval")))
             + others(lambda m: div(med(m, "kpieval-j1"), med(m, "kpieval"))))
    m1 = 1_000_000
    rss = [(st(m1, key)["rss"], key) for key in ("kpieval", "kpieval-j1", "kpieval-csv",
                                                   "kpieval-check")
           if m1 in by_n and st(m1, key)]
    if rss:
        worst, key = max(rss)
        detail = ", ".join(f"{BY_KEY[kk].label}: {v:.0f} MiB" for v, kk in rss)
        line(worst <= 150, f"peak RSS at most 150 MiB at 1,000,000 KPIs: **{worst:.0f} MiB** "
             f"at most" + ("." if worst <= 150 else f"; missed by {worst / 150:.2f}× "
                           f"({worst - 150:.0f} MiB over).") + f" ({detail})")
    else:
        line(None, "peak RSS at most 150 MiB at 1,000,000 KPIs"
             + ("" if m1 in by_n else " (size not in BENCH_SIZES)"))
    steps = sorted(by_n)
    growth = []
    for a, b in zip(steps, steps[1:]):
        ta, tb = med(a, "kpieval"), med(b, "kpieval")
        if ta and tb:
            growth.append((a, b, tb / ta, b / a))
    if growth:
        fine = all(g <= f for _, _, g, f in growth)
        parts = [f"{fmt_n(a)} → {fmt_n(b)}: time ×{g:.2f} for ×{f:g} KPIs"
                 + ("" if g <= f else f" (**{g / f:.2f}× worse than linear**)")
                 for a, b, g, f in growth]
        line(fine, "time grows no faster than linearly with the KPI count: "
             + "; ".join(parts) + ".")
    else:
        line(None, "time grows no faster than linearly (needs two sizes)")

    # Where the time goes, from the kpieval rows.
    full, csv_only, check_only = med(n, "kpieval"), med(n, "kpieval-csv"), med(n, "kpieval-check")
    if full and csv_only and check_only:
        out.append("")
        out.append(f"Where kpieval's time goes at {fmt_n(n)} KPIs (medians): reading, "
                   f"evaluating and rolling up (`kpieval check`) {fmt_s(check_only)} s; "
                   f"writing kpis.csv and departments.csv {fmt_s(max(csv_only - check_only, 0))} "
                   f"s more; writing report.json and the per-department files "
                   f"{fmt_s(max(full - csv_only, 0))} s more, {(full - csv_only) / full * 100:.0f}% "
                   f"of the full run.")
    return out


def write_report(text):
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    tmp = REPORT + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, REPORT)


def main(argv):
    if argv[1:] == ["--render"]:
        # The report again from the last run's results.json, without measuring:
        # for changing how the report is written.
        with open(os.path.join(WORK, "results.json")) as f:
            saved = json.load(f)
        find_tools()
        for t in TOOLS:
            t.version = saved["versions"].get(t.key, t.version)
        when = [datetime.datetime.fromisoformat(saved[k]) for k in ("started", "finished")]
        write_report(render(saved["machine"], saved["sizes"], saved["profile"],
                            saved["profile_note"], *when))
        say(f"wrote {REPORT} from {WORK}/results.json")
        return 0
    if argv[1:]:
        print("usage: bench.py [--render]   (settings come from BENCH_* variables)",
              file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.timezone.utc)
    say(f"sizes {SIZES}, {RUNS} run(s) each, scratch folder {WORK}")
    if not os.access(KPIEVAL, os.X_OK):
        say(f"{KPIEVAL} is missing: run `make build` (or `make bench`)")
        return 2
    os.makedirs(WORK, exist_ok=True)
    find_tools()
    for t in TOOLS:
        if t.note:
            say(f"skipping {t.key}: {t.note}")
    info = machine()
    results = {}
    sizes = [run_size(n, results) for n in SIZES]
    prof, prof_note = (None, "BENCH_PROFILE=0") if not PROFILE else profile(max(SIZES))
    finished = datetime.datetime.now(datetime.timezone.utc)
    write_report(render(info, sizes, prof, prof_note, started, finished))
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump({"machine": info, "sizes": sizes, "profile": prof, "profile_note": prof_note,
                   "started": started.isoformat(), "finished": finished.isoformat(),
                   "versions": {t.key: t.version for t in TOOLS}}, f, indent=1)
    say(f"wrote {REPORT} ({(finished - started).total_seconds() / 60:.1f} minutes); "
        f"raw numbers in {WORK}/results.json")
    disagreeing = [f"{t.key}@{s['n']}" for s in sizes for t in TOOLS
                   if (s["tools"][t.key].get("check") or {}).get("kpis")
                   or (s["tools"][t.key].get("check") or {}).get("departments")]
    if disagreeing:
        say("peers that disagree with kpieval: " + ", ".join(disagreeing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
