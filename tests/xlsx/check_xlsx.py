#!/usr/bin/env python3
"""Reads OUT/report.xlsx back (zipfile and xml.etree only) and checks it
against OUT/kpis.csv, OUT/departments.csv and OUT/report.json of the same run.

    check_xlsx.py OUT [--lang en|ko] [--guarded TEXT]... [--plain TEXT]...
                      [--expect NAME=VALUE]...

Checks: every sheet's frozen header row, autofilter, A4 landscape one page
wide, repeated header row, column widths; sheet names Excel accepts; the
overview's rows (departments.csv in order, then the overall row) with
coverage and achievement as formulas whose cached values are report.json's
and whose values, computed here from the KPI cells they name, are too;
every KPI in the KPI sheets with the cells of kpis.csv (text as text,
numbers as numbers, rates with 2 decimals); a sheet per top-level
department; texts given with --guarded marked as text (quote prefix or the
Text format), those given with --plain not. --expect department=achievement
checks a department's engine figure (worked out by hand by the caller).
"""
import argparse
import csv
import json
import math
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
M = "{%s}" % NS["m"]
BUILTIN = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 49: "@"}
WORDS_KO = {"department": "부서", "id": "지표ID", "achievement": "달성률",
            "overview": "개요", "all KPIs": "전체 지표", "(overall)": "(전체)"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def col_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


class Book:
    def __init__(self, path):
        self.z = zipfile.ZipFile(path)
        wb = ET.fromstring(self.z.read("xl/workbook.xml"))
        rels = ET.fromstring(self.z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels}
        self.names = []
        self.files = {}
        for s in wb.find("m:sheets", NS):
            name = s.get("name")
            self.names.append(name)
            self.files[name] = "xl/" + target[s.get("{%s}id" % NS["r"])]
        self.defined = [(d.get("name"), d.get("localSheetId"), d.text)
                        for d in wb.iter(M + "definedName")]
        self.calc = wb.find("m:calcPr", NS)
        st = ET.fromstring(self.z.read("xl/styles.xml"))
        fmts = dict(BUILTIN)
        nf = st.find("m:numFmts", NS)
        for f in (nf if nf is not None else []):
            fmts[int(f.get("numFmtId"))] = f.get("formatCode")
        self.xfs = []
        for xf in st.find("m:cellXfs", NS):
            self.xfs.append({"fmt": fmts.get(int(xf.get("numFmtId", "0")), "?"),
                             "quote": xf.get("quotePrefix") == "1",
                             "indent": int((xf.find("m:alignment", NS).get("indent", "0")
                                            if xf.find("m:alignment", NS) is not None else "0"))})
        self.sheets = {}

    def sheet(self, name):
        if name not in self.sheets:
            root = ET.fromstring(self.z.read(self.files[name]))
            cells = {}
            for row in root.iter(M + "row"):
                for c in row.findall("m:c", NS):
                    ref = c.get("r")
                    m = re.match(r"([A-Z]+)(\d+)$", ref)
                    t = c.get("t", "n")
                    f = c.find("m:f", NS)
                    v = c.find("m:v", NS)
                    if t == "inlineStr":
                        value = "".join(x.text or "" for x in c.iter(M + "t"))
                    elif t == "s":
                        raise AssertionError("shared strings are not expected")
                    else:
                        value = v.text if v is not None else None
                    cells[(int(m.group(2)) - 1, col_index(m.group(1)))] = {
                        "t": t, "value": value, "f": f.text if f is not None else None,
                        "xf": self.xfs[int(c.get("s", "0"))]}
            self.sheets[name] = (root, cells)
        return self.sheets[name]


def num(cell):
    return float(cell["value"])


def close(a, b, rel):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def check_sheet_setup(book, name, n_rows, freeze_cols):
    root, cells = book.sheet(name)
    pane = root.find(".//m:sheetView/m:pane", NS)
    if pane is None or pane.get("state") != "frozen" or pane.get("ySplit") != "1" or \
            pane.get("xSplit") != str(freeze_cols):
        fail("%s: header row (and %d columns) not frozen: %s" % (name, freeze_cols,
                                                                  None if pane is None else pane.attrib))
    af = root.find("m:autoFilter", NS)
    if af is None or not re.match(r"A1:[A-Z]+%d$" % n_rows, af.get("ref", "")):
        fail("%s: autofilter %s, expected A1:..%d" % (name, None if af is None else af.attrib, n_rows))
    ps = root.find("m:pageSetup", NS)
    if ps is None or ps.get("paperSize") != "9" or ps.get("orientation") != "landscape" or \
            ps.get("fitToHeight") != "0":
        fail("%s: page setup %s" % (name, None if ps is None else ps.attrib))
    fit = root.find("m:sheetPr/m:pageSetUpPr", NS)
    if fit is None or fit.get("fitToPage") != "1":
        fail("%s: not fitted to the page width" % name)
    idx = str(book.names.index(name))
    titles = [d for d in book.defined if d[0] == "_xlnm.Print_Titles" and d[1] == idx]
    if not titles or not titles[0][2].endswith("!$1:$1"):
        fail("%s: header row not repeated on each page: %s" % (name, titles))
    cols = root.find("m:cols", NS)
    if cols is None or not len(cols):
        fail("%s: no column widths" % name)
    return root, cells


def header_of(cells):
    out = []
    c = 0
    while (0, c) in cells:
        out.append(cells[(0, c)]["value"])
        c += 1
    return out


def unguard(csv_text, xlsx_text):
    """kpis.csv shows a guarded text with a leading apostrophe."""
    if csv_text == "'" + xlsx_text:
        return xlsx_text
    return csv_text


RANGE = re.compile(r"'((?:[^']|'')+)'!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)")


def evaluate(book, formula):
    """The value of one of the workbook's formulas, computed here from the
    cells it names: SUMPRODUCT, SUM, + * / and parentheses; blank is 0."""
    def column(ref):
        m = RANGE.fullmatch(ref.strip())
        if not m:
            raise ValueError("range " + ref)
        sheet, c1, r1, c2, r2 = m.groups()
        assert c1 == c2
        _, cells = book.sheet(sheet.replace("''", "'"))
        c = col_index(c1)
        out = []
        for r in range(int(r1) - 1, int(r2)):
            cell = cells.get((r, c))
            out.append(0.0 if cell is None or cell["value"] is None else num(cell))
        return out

    def SUMPRODUCT(a, b):
        a, b = column(a), column(b)
        assert len(a) == len(b)
        return math.fsum(x * y for x, y in zip(a, b))

    def SUM(a):
        return math.fsum(column(a))

    refs = []

    def placeholder(m):
        refs.append(m.group(0))
        return "R[%d]" % (len(refs) - 1)

    expr = RANGE.sub(placeholder, formula)
    if not re.fullmatch(r"(SUMPRODUCT|SUM|R\[\d+\]|[()\d.*/+,])*", expr):
        raise ValueError("unexpected formula " + formula)
    expr = expr.replace("SUMPRODUCT", "SP").replace("SUM", "S")
    return eval(expr, {"__builtins__": {}}, {"SP": SUMPRODUCT, "S": SUM, "R": refs})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--guarded", action="append", default=[])
    ap.add_argument("--plain", action="append", default=[])
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--unscored", default=None)
    a = ap.parse_args()
    word = (lambda w: WORDS_KO.get(w, w)) if a.lang == "ko" else (lambda w: w)

    report = json.load(open(a.out + "/report.json", encoding="utf-8"))
    kpis = list(csv.reader(open(a.out + "/kpis.csv", encoding="utf-8-sig", newline="")))
    deps = list(csv.reader(open(a.out + "/departments.csv", encoding="utf-8-sig", newline="")))
    book = Book(a.out + "/report.xlsx")

    # Sheet names Excel takes: 31 characters, none of []:*?/\, unique.
    low = [n.lower() for n in book.names]
    if len(set(low)) != len(low):
        fail("sheet names not unique: %s" % book.names)
    for n in book.names:
        if len(n.encode("utf-16-le")) // 2 > 31 or re.search(r"[\[\]:*?/\\]", n) or \
                n.startswith("'") or n.endswith("'") or not n:
            fail("sheet name Excel refuses: %r" % n)
    if book.names[0] != word("overview") or book.names[1] != word("all KPIs"):
        fail("sheets: %s" % book.names)
    if book.calc is None or book.calc.get("fullCalcOnLoad") != "1":
        fail("workbook not recalculated on load")

    # The KPI sheets: the pieces of the all-KPIs sheet, in order.
    kpi_sheets = [n for n in book.names if n == word("all KPIs") or
                  re.fullmatch(re.escape(word("all KPIs")) + r" \(\d+\)", n)]
    rows = []
    for name in kpi_sheets:
        _, cells = book.sheet(name)
        n = max(r for r, _ in cells)
        check_sheet_setup(book, name, n + 1, 2)
        rows += [(name, cells, r) for r in range(1, n + 1)]
    header = header_of(book.sheet(kpi_sheets[0])[1])
    if header[:len(kpis[0])] != kpis[0]:
        fail("KPI sheet header %s, kpis.csv %s" % (header, kpis[0]))
    if len(header) != len(kpis[0]) + 2:
        fail("KPI sheet: expected kpis.csv's columns and two weights: %s" % header)
    root = book.sheet(kpi_sheets[0])[0]
    hidden = [c for c in root.find("m:cols", NS) if c.get("hidden") == "1"]
    if [int(c.get("min")) for c in hidden] != [len(header) - 1, len(header)]:
        fail("the two weight columns are not the hidden last two: %s" % [c.attrib for c in hidden])
    if len(rows) != len(kpis) - 1:
        fail("KPI sheets hold %d rows, kpis.csv %d" % (len(rows), len(kpis) - 1))
    json_kpis = report["kpis"]
    rates = {"achievement", "achievement_capped"}
    for k, (name, cells, r) in enumerate(rows[:len(kpis) - 1]):
        csv_row = kpis[k + 1]
        jk = json_kpis[k]
        for c, col in enumerate(kpis[0]):
            cell = cells.get((r, c))
            text = csv_row[c]
            if cell is None:
                if text != "":
                    fail("%s row %d %s: empty, kpis.csv %r" % (name, r + 1, col, text))
                continue
            if cell["f"] is not None:
                fail("%s row %d %s: a formula %r" % (name, r + 1, col, cell["f"]))
            if cell["t"] == "n":
                v = num(cell)
                key = col if a.lang == "en" else None
                exact = jk.get(key) if key else None
                if isinstance(exact, (int, float)) and not close(v, exact, 1e-15):
                    fail("%s row %d %s: %r, report.json %r" % (name, r + 1, col, v, exact))
                if not close(v, float(text), 0.00501 if "." in text else 1e-15):
                    fail("%s row %d %s: %r, kpis.csv %r" % (name, r + 1, col, v, text))
                want = "0.00" if "." in text else "#,##0"
                if cell["xf"]["fmt"] not in (want, "General"):
                    fail("%s row %d %s: format %r, expected %r" % (name, r + 1, col, cell["xf"]["fmt"], want))
                if a.lang == "en" and col in rates and cell["xf"]["fmt"] != "0.00":
                    fail("%s row %d %s: a rate without 2 decimals" % (name, r + 1, col))
            elif cell["t"] == "inlineStr":
                if unguard(text, cell["value"]) != cell["value"]:
                    fail("%s row %d %s: %r, kpis.csv %r" % (name, r + 1, col, cell["value"], text))
                guarded = cell["xf"]["quote"] or cell["xf"]["fmt"] == "@"
                if text.startswith("'") and text[1:] == cell["value"] and not guarded:
                    fail("%s row %d %s: %r not marked as text" % (name, r + 1, col, cell["value"]))
            else:
                fail("%s row %d %s: cell type %r" % (name, r + 1, col, cell["t"]))
        # The weights the formulas sum.
        ok = jk["status"] == "ok"
        sw = cells.get((r, len(header) - 2))
        uw = cells.get((r, len(header) - 1))
        sw = num(sw) if sw else 0.0
        uw = num(uw) if uw else 0.0
        wt = jk["weight"] if isinstance(jk.get("weight"), (int, float)) else None
        if ok and (sw != wt or uw != 0):
            fail("%s row %d: scored weight %r unscored %r for an ok KPI of weight %r" % (name, r + 1, sw, uw, wt))
        if not ok:
            want = wt if wt is not None and 0 <= wt <= 1e9 else 1
            if sw != 0 or uw != want:
                fail("%s row %d: scored weight %r unscored %r for a %s KPI of weight %r" % (
                    name, r + 1, sw, uw, jk["status"], wt))

    # The overview: departments.csv's rows, then the overall row.
    ov = word("overview")
    root, cells = check_sheet_setup(book, ov, len(deps) - 1 + 1, 1)
    if header_of(cells) != deps[0]:
        fail("overview header %s, departments.csv %s" % (header_of(cells), deps[0]))
    jdeps = report["departments"]
    cov = deps[0].index(word("coverage") if a.lang == "en" else "평가비율")
    ach = deps[0].index(word("achievement"))
    for d in range(1, len(deps) + 1):
        overall = d == len(deps)
        jd = report["overall"] if overall else jdeps[d - 1]
        row = deps[d] if not overall else None
        for c in range(len(deps[0])):
            cell = cells.get((d, c))
            if c in (cov, ach):
                exact = jd.get("coverage" if c == cov else "achievement")
                if exact is None:
                    if cell is not None and cell["value"] is not None:
                        fail("overview row %d: %r where the engine has none" % (d + 1, cell))
                    continue
                if cell is None or cell["f"] is None:
                    fail("overview row %d col %d: not a formula: %r" % (d + 1, c, cell))
                    continue
                if cell["t"] != "n" or cell["xf"]["fmt"] != "0.00":
                    fail("overview row %d col %d: type %r format %r" % (d + 1, c, cell["t"], cell["xf"]["fmt"]))
                if row and not close(num(cell), float(row[c]), 0.00501):
                    fail("overview row %d col %d: cached %r, departments.csv %r" % (d + 1, c, num(cell), row[c]))
                computed = evaluate(book, cell["f"])
                if c == ach:
                    if not close(num(cell), exact, 1e-15):
                        fail("overview row %d: cached achievement %r, report.json %r" % (d + 1, num(cell), exact))
                    if not close(computed, exact, 1e-9):
                        fail("overview row %d: formula %s gives %r, the engine %r" % (d + 1, cell["f"], computed, exact))
                    if a.unscored == "skip" and "+SUM(" in cell["f"].split("/(", 1)[1]:
                        fail("overview row %d: skip policy, yet unscored weights in %s" % (d + 1, cell["f"]))
                    if a.unscored == "zero" and "+SUM(" not in cell["f"].split("/(", 1)[1]:
                        fail("overview row %d: zero policy, yet no unscored weights in %s" % (d + 1, cell["f"]))
                elif not close(computed, num(cell), 1e-9):
                    fail("overview row %d: coverage formula %s gives %r, cached %r" % (d + 1, cell["f"], computed, num(cell)))
                continue
            if overall:
                continue
            text = row[c]
            if cell is None:
                if text != "":
                    fail("overview row %d col %d: empty, departments.csv %r" % (d + 1, c, text))
                continue
            if cell["t"] == "n":
                if num(cell) != float(text) or cell["xf"]["fmt"] != "#,##0":
                    fail("overview row %d col %d: %r (%s), departments.csv %r" % (d + 1, c, num(cell), cell["xf"]["fmt"], text))
            elif unguard(text, cell["value"]) != cell["value"]:
                fail("overview row %d col %d: %r, departments.csv %r" % (d + 1, c, cell["value"], text))
        if not overall:
            depth = jdeps[d - 1]["department"].count("/")
            if cells[(d, 0)]["xf"]["indent"] != min(depth, 15):
                fail("overview row %d: indent %r for depth %d" % (d + 1, cells[(d, 0)]["xf"]["indent"], depth))
        elif cells[(d, 0)]["value"] != word("(overall)"):
            fail("overview: last row is %r" % cells[(d, 0)]["value"])

    # A sheet per top-level department, its KPIs in order (when there are
    # at most 200 top-level departments).
    tops = [j["department"] for j in jdeps if "/" not in j["department"]]
    if len(tops) <= 200:
        extra = [n for n in book.names[1 + len(kpi_sheets):] if n not in ("provenance", "출처")]
        ids = []
        for name in extra:
            _, cells = book.sheet(name)
            check_sheet_setup(book, name, max(r for r, _ in cells) + 1, 2)
            ids.append([cells[(r, 0)]["value"] for r in range(1, max(r for r, _ in cells) + 1)])
        want = [[k["id"] for k in json_kpis if k["department"] == t or k["department"].startswith(t + "/")]
                for t in tops]
        flat = [i for s in ids for i in s]
        if flat != [i for s in want for i in s]:
            fail("department sheets %s do not hold their departments' KPIs in order" % extra)

    # Texts that a spreadsheet would run are marked as text; others not.
    everything = [(n, c) for n in book.names for c in book.sheet(n)[1].values()]
    for text in a.guarded + a.plain:
        found = [(n, c) for n, c in everything if c["t"] == "inlineStr" and c["value"] == text]
        if not found:
            fail("text %r not in the workbook" % text)
        for n, c in found:
            marked = c["xf"]["quote"] or c["xf"]["fmt"] == "@"
            if marked != (text in a.guarded):
                fail("%s: %r %s" % (n, text, "not marked as text" if not marked else "marked as text"))
    for e in a.expect:
        dep, value = e.rsplit("=", 1)
        j = next(j for j in jdeps if j["department"] == dep)
        if not close(j["achievement"], float(value), 1e-12):
            fail("%s: engine achievement %r, worked out by hand %s" % (dep, j["achievement"], value))

    print("%s: %d sheets, %d KPI rows, %d departments checked, %d failures" % (
        a.out, len(book.names), len(rows), len(deps) - 1, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
