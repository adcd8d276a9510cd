#!/usr/bin/env python3
"""report.html in a real browser: headless Chromium opens it, and the DOM
it built (scripts would have run by then) shows the departments' figures
of departments.csv, the KPIs' of kpis.csv, the hostile names as text and
no trace of a script; the Seoul 2019 overview is screenshot (in Korean,
with fonts-noto-cjk) and printed to PDF on A4 pages.

    tests/reports/browser.py KPIEVAL SOURCE_DIR [SCREENSHOT_DIR]

Needs chromium and fonts-noto-cjk (Debian); exits 77 (skipped) without
chromium.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import hostile  # noqa: E402
import htmltree  # noqa: E402

kpieval, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
shots = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
browser = shutil.which("chromium") or shutil.which("chromium-browser")
if not browser:
    print("browser: chromium not installed (apt-get install chromium fonts-noto-cjk): skipped")
    sys.exit(77)
tmp = tempfile.mkdtemp(prefix="kpieval-browser.")
check = checks.Checks("browser")


def chromium(*args):
    """Runs headless Chromium with a profile of its own; returns stdout."""
    cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--disable-background-networking",
           "--user-data-dir=" + os.path.join(tmp, "profile"), *args]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=90)
    except subprocess.TimeoutExpired:
        # What a script's alert() does to a headless page: it waits for
        # someone to close the dialog.
        print("FAIL: chromium did not finish in 90 s (a script's dialog waiting?): %s" % args[-1])
        sys.exit(1)
    if p.returncode != 0:
        print("chromium: exit %d\n%s" % (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
        sys.exit(1)
    return p.stdout.decode("utf-8")


def url(path):
    return "file://" + os.path.abspath(path)


def rows_of(page, table_class):
    table = next(t for t in page.root.iter("table") if table_class in t.classes())
    return htmltree.table_rows(table)


# ---- the hostile dataset: the DOM Chromium built -----------------------------
ds = os.path.join(tmp, "hostile")
hostile.write(ds)
out = os.path.join(tmp, "hostile-out")
checks.run(kpieval, "run", ds, "--out", out, "--lang", "ko", "--quiet", "--jobs", "1")
dom = chromium("--dump-dom", url(os.path.join(out, "report.html")))
page = htmltree.parse(dom)
body = page.root.find("body")
check(body is not None, "no body in the DOM")
scripts = list(page.root.iter("script"))
check(not scripts, "script elements in the DOM: %d" % len(scripts))
check(not list(page.root.iter("img")), "an <img> from the inputs became an element")
check("data-pwned" not in body.attrs, "a script from the inputs ran (body data-pwned=%r)"
      % body.attrs.get("data-pwned"))
html = page.root.find("html")
check(html.attrs.get("lang") == "ko", "lang %r" % html.attrs.get("lang"))

deps = {d["부서"]: d for d in checks.read_csv(os.path.join(out, "departments.csv"))}
shown = {}
for r in rows_of(page, "overview"):
    a = r["department"].find("a")
    shown[a.attrs["title"] if a else "#overall"] = r
check(set(shown) - {"#overall"} == set(deps), "departments in the DOM: %s" % sorted(shown))
for path, d in deps.items():
    r = shown.get(path)
    if r is None:
        continue
    check(r["achievement"].text() == d["달성률"] + "%", "%s: achievement %r, departments.csv %r"
          % (path, r["achievement"].text(), d["달성률"]))
    check(r["grade"].text() == d["등급"], "%s: grade %r, departments.csv %r"
          % (path, r["grade"].text(), d["등급"]))
    check(r["coverage"].text() == d["평가비율"] + "%", "%s: coverage %r" % (path, r["coverage"].text()))
check(shown[hostile.TOP]["coverage"].text() == "33.33%", "1 of 3: coverage %r, expected 33.33%%"
      % shown[hostile.TOP]["coverage"].text())

kpis = {}
for table in (t for t in page.root.iter("table") if "kpis" in t.classes()):
    for r in htmltree.table_rows(table):
        kpis[r[None].parent.attrs["id"][4:]] = r
for k in checks.read_csv(os.path.join(out, "kpis.csv")):
    r = kpis.get(k["지표ID"])
    if r is None:
        check(False, "KPI %s not in the DOM" % k["지표ID"])
        continue
    for col, head in (("target", "목표치"), ("actual", "실적")):
        check(r[col].text() == (k[head] or "\u2013"), "%s: %s %r, kpis.csv %r"
              % (k["지표ID"], col, r[col].text(), k[head]))
    check(r["achievement"].text() == (k["달성률"] + "%" if k["달성률"] else "\u2013"),
          "%s: achievement %r, kpis.csv %r" % (k["지표ID"], r["achievement"].text(), k["달성률"]))
check(kpis.get("H-1") and kpis["H-1"]["name"].text() == hostile.SCRIPT_NAME,
      "the <script> KPI's name is not shown as text: %r" % (kpis.get("H-1") and kpis["H-1"]["name"].text()))

# ---- Seoul 2019 in Korean: a screenshot and an A4 print -----------------------
seoul = os.path.join(tmp, "seoul")
checks.run(kpieval, "run", os.path.join(src, "datasets", "seoul-2019"), "--out", seoul, "--lang", "ko", "--quiet")
report = url(os.path.join(seoul, "report.html"))
png = os.path.join(shots or tmp, "report-overview.png")
os.makedirs(os.path.dirname(png), exist_ok=True)
chromium("--screenshot=" + png, "--window-size=1280,1800", report)
data = open(png, "rb").read() if os.path.exists(png) else b""
check(data[:8] == b"\x89PNG\r\n\x1a\n", "no screenshot")
if data[:8] == b"\x89PNG\r\n\x1a\n":
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    check((w, h) == (1280, 1800), "screenshot %dx%d" % (w, h))
fonts = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True).stdout
check("Noto Sans CJK KR" in fonts or "Noto Sans KR" in fonts,
      "no font of the report's stack renders Korean (fonts-noto-cjk): %r" % fonts[:200])
dom = chromium("--dump-dom", report)
seoul_page = htmltree.parse(dom)
check(any(r["department"].text().startswith("서울특별시") for r in rows_of(seoul_page, "overview")),
      "Seoul overview without 서울특별시")

pdf = os.path.join(shots or tmp, "report.pdf")
chromium("--no-pdf-header-footer", "--print-to-pdf=" + pdf, report)
raw = open(pdf, "rb").read() if os.path.exists(pdf) else b""
check(raw.startswith(b"%PDF-"), "no PDF printed")
# Page boxes, from the page objects (and any compressed object streams).
text = raw
for m in re.finditer(rb"stream\r?\n", raw):
    try:
        text += zlib.decompressobj().decompress(raw[m.end():m.end() + 200000])
    except zlib.error:
        pass
boxes = [tuple(float(x) for x in b.split()) for b in
         re.findall(rb"/MediaBox\s*\[\s*([-\d.\s]+?)\s*\]", text)]
pages = len(re.findall(rb"/Type\s*/Page(?!s)", text))
check(pages >= 2, "the Seoul report printed on %d page(s)" % pages)
check(boxes and all(abs(b[2] - b[0] - 595) < 2 and abs(b[3] - b[1] - 842) < 2 for b in boxes),
      "pages are not A4 (595 x 842 pt): %s" % boxes[:3])

shutil.rmtree(tmp)
check.finish()
