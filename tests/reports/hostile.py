"""A small dataset whose texts try to break out of report.html, shared by
the report tests (html_structure.py, browser.py).

Its figures are worked out by hand below (docs/formats.md: ratio rule,
cap 120, unscored KPIs counted as 0), not taken from kpieval's output.
"""
import os

SCRIPT_NAME = "<script>alert(1)</script>"
# A department whose name is markup that would run a script and mark the
# page if it were parsed as markup.
PWN_DEPARTMENT = '<img src=x onerror="document.body.dataset.pwned=1">'
TOP = 'Ops & "Co" \'quoted\''
HOSTILE_DEPARTMENT = TOP + "/" + PWN_DEPARTMENT

# (id, name, department, unit, direction, baseline, target, formula, weight, owner)
INDICATORS = [
    ("H-1", SCRIPT_NAME, HOSTILE_DEPARTMENT, "%", "increase", "50", "80",
     "ratio(done, total)", "1", "O'Brien <x@example>"),
    # An ESC (terminal colour) in the name: shown as \x1b.
    ("H-2", "colour \x1b[31mred", HOSTILE_DEPARTMENT, "cases", "increase", "", "10",
     "count", "1", ""),
    ("H-3", "never reported", HOSTILE_DEPARTMENT, "cases", "increase", "", "10",
     "count", "1", ""),
    ("G-1", "visitors", "Main", "people", "increase", "90", "100", "visitors", "2",
     "<script>document.body.dataset.pwned=2</script>"),
    ("G-2", "errors", "Main", "errors", "decrease", "20", "10", "errors", "1", ""),
]
ACTUALS = [
    ("H-1", "done", "7"), ("H-1", "total", "10"),
    ("G-1", "visitors", "95"),
    ("G-2", "errors", "8"),
    # An unknown KPI: a warning that quotes it.
    ("<script>x</script>", "v", "1"),
]

# By hand: H-1 70 / 80 = 87.50; G-1 95 / 100 = 95.00; G-2 (decrease)
# 10 / 8 = 125.00, capped at 120. H-2 and H-3 are missing (0 at weight 1).
KPI_ACHIEVEMENT = {"H-1": "87.50", "G-1": "95.00", "G-2": "125.00"}
# department path -> (achievement, grade, coverage)
DEPARTMENTS = {
    "Main": ("103.33", "S", "100.00"),          # (95 x 2 + 120) / 3
    TOP: ("29.17", "D", "33.33"),               # 87.5 / 3; 1 of 3 weight scored
    HOSTILE_DEPARTMENT: ("29.17", "D", "33.33"),
}
OVERALL = ("66.25", "D", "66.67")               # (87.5 + 190 + 120) / 6; 4 of 6


def csv_field(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def write(folder):
    os.makedirs(folder, exist_ok=True)
    header = "id,name,department,unit,direction,baseline,target,formula,weight,owner"
    with open(os.path.join(folder, "indicators.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        for row in INDICATORS:
            f.write(",".join(csv_field(c) for c in row) + "\n")
    with open(os.path.join(folder, "actuals.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("indicator,input,value\n")
        for row in ACTUALS:
            f.write(",".join(csv_field(c) for c in row) + "\n")
