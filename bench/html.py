#!/usr/bin/python3
"""What report.html costs a run, written into docs/benchmarks.md as its own
section "## report.html" (replaced on each run, the rest of the file kept).

Run by `make bench` after bench.py, or alone:
    BENCH_KPIEVAL=build/kpieval bench/html.py
Environment as bench.py's: BENCH_SIZES (here default "20000 100000
1000000": 20,000 is the most KPIs the page inlines), BENCH_RUNS (3),
BENCH_DIR, BENCH_REPORT, BENCH_KPIEVAL.

Per size, round-robin: `kpieval run --log json` writing every report,
every report but report.html, and report.html alone; the median wall time
of each and of its `write` phase (from --log json), and the page's size.
The writers run in parallel, so the whole run's cost of the page is the
first two's difference; the third is the writer on its own, one thread.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KPIEVAL = os.path.abspath(os.environ.get("BENCH_KPIEVAL", os.path.join(ROOT, "build", "kpieval")))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "20000 100000 1000000").split()]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WORK = os.environ.get("BENCH_DIR", "/tmp/kpieval-bench")
REPORT = os.environ.get("BENCH_REPORT", os.path.join(ROOT, "docs", "benchmarks.md"))
ALL_BUT_HTML = "kpis.csv,departments.csv,departments/,report.json"
VARIANTS = [("every report", None), ("every report but report.html", ALL_BUT_HTML),
            ("report.html alone", "report.html")]


def run(data, out, reports):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [KPIEVAL, "run", data, "--out", out, "--log", "json"]
    if reports:
        cmd += ["--reports", reports]
    start = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        sys.exit("bench/html.py: %s: exit %d" % (" ".join(cmd), p.returncode))
    write = next(json.loads(l)["seconds"] for l in p.stderr.decode().splitlines()
                 if '"phase": "write"' in l)
    size = os.path.getsize(os.path.join(out, "report.html")) if reports != ALL_BUT_HTML else 0
    return wall, write, size


def main():
    rows = []
    os.makedirs(WORK, exist_ok=True)
    for n in SIZES:
        data = os.path.join(WORK, "data-%d" % n)
        if not os.path.exists(os.path.join(data, "actuals.csv")):
            subprocess.run([KPIEVAL, "generate", str(n), data], check=True,
                           stdout=subprocess.DEVNULL)
        got = {v: [] for v, _ in VARIANTS}
        for _ in range(RUNS):
            for v, reports in VARIANTS:
                got[v].append(run(data, os.path.join(WORK, "html-out"), reports))
        med = {v: (statistics.median(r[0] for r in got[v]), statistics.median(r[1] for r in got[v]),
                   got[v][0][2]) for v in got}
        rows.append((n, med))
        print("bench/html.py: %d KPIs: %s" % (n, med), file=sys.stderr)
    shutil.rmtree(os.path.join(WORK, "html-out"), ignore_errors=True)

    out = ["## report.html", "",
           "What the page adds to a run (`bench/html.py`, part of `make bench`; median of "
           "%d runs, `kpieval run --log json`, this machine). Up to 20,000 KPIs the page "
           "inlines every KPI; above, it lists the departments with links to their files "
           "(docs/reports.md). The writers run in parallel, so the page's share of a "
           "whole run is small and within the run-to-run noise of a busy machine; the "
           "writer's own cost is the write phase of `--reports report.html`, one thread "
           "writing nothing else." % RUNS, "",
           "| KPIs | run, every report | run, all but report.html | report.html's share | "
           "write phase, all / all but html | report.html alone: write phase | page size |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    for n, m in rows:
        full, rest, alone = m["every report"], m["every report but report.html"], m["report.html alone"]
        out.append("| %s | %.2f s | %.2f s | %+.2f s | %.2f s / %.2f s | %.2f s | %.1f MB |" % (
            format(n, ","), full[0], rest[0], full[0] - rest[0], full[1], rest[1], alone[1],
            full[2] / 1e6))
    section = "\n".join(out) + "\n"
    text = open(REPORT, encoding="utf-8").read() if os.path.exists(REPORT) else ""
    text = re.sub(r"(?ms)^## report\.html\n.*?(?=^## |\Z)", "", text).rstrip("\n")
    with open(REPORT, "w", encoding="utf-8") as f:
        f.write((text + "\n\n" if text else "") + section)
    print("bench/html.py: wrote the report.html section of %s" % REPORT, file=sys.stderr)


if __name__ == "__main__":
    main()
