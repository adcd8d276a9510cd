#!/usr/bin/env python3
"""Independent calculation of datasets/seoul-2019's department table.

Written without looking at kpieval's output: plain Python versions of the
plan's formulas, the ratio rule (actual / target x 100), the 120 cap, the
weighted mean over every KPI beneath a department and the default grades.
Prints departments.csv; tests/e2e/run_seoul.sh compares kpieval's with it.
"""
import csv
import sys
from decimal import Decimal, ROUND_HALF_UP

root = sys.argv[1]
ind = list(csv.DictReader(open(root + "/indicators.csv", encoding="utf-8", newline="")))
act = {}
for a in csv.DictReader(open(root + "/actuals.csv", encoding="utf-8", newline="")):
    act.setdefault(a["indicator"], {})[a["input"]] = float(a["value"])

def evaluate(formula, i):
    name, _, args = formula.partition("(")
    if not args:
        return i[formula.strip()]
    vals = [i[x.strip()] for x in args.rstrip(")").split(",")]
    if name in ("ratio", "progress"):
        return vals[0] / vals[1] * 100
    if name == "sum":
        return sum(vals)
    raise SystemExit("no independent version of " + formula)

def rate(x):
    return Decimal("%.15g" % x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

def grade(x):
    for g, m in (("S", 100), ("A", 90), ("B", 80), ("C", 70), ("D", 0)):
        if x >= m:
            return g
    return ""

nodes = {}
for r in ind:
    actual = evaluate(r["formula"], act[r["id"]])
    capped = min(actual / float(r["target"]) * 100, 120)
    w = float(r["weight"] or 1)
    parts = r["department"].split("/")
    for k in range(1, len(parts) + 1):
        nodes.setdefault("/".join(parts[:k]), []).append((w, capped))

print("department,kpis,ok,missing,error,invalid,coverage,achievement,grade,grade_note")
for n in sorted(nodes, key=lambda s: [p.encode() for p in s.split("/")]):
    ws = sum(w for w, _ in nodes[n])
    v = sum(w * c for w, c in nodes[n]) / ws
    # every KPI of the plan has its actuals: full coverage, no note
    print("%s,%d,%d,0,0,0,100.00,%s,%s," % (n, len(nodes[n]), len(nodes[n]), rate(v), grade(v)))
