#!/usr/bin/env python3
"""report.html read as a parser reads it (no browser): one self-contained
page in the report's language, no script, nothing fetched from outside,
every text of the inputs shown as text, the figures of the CSVs, the
per-KPI detail inlined up to KPI_HTML_KPIS_MAX KPIs and a department list
with links above, and a merge of shards writing the same bytes.

    tests/reports/html_structure.py KPIEVAL
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import hostile  # noqa: E402
import htmltree  # noqa: E402

kpieval = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="kpieval-html.")
check = checks.Checks("html")

# Tags the page is made of; anything else came from an input.
ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "div", "p", "h1", "h2",
           "h3", "small", "b", "dl", "dt", "dd", "section", "table", "thead", "tbody",
           "tfoot", "tr", "th", "td", "a", "span", "i", "code", "ul", "li", "footer"}
KPIS_MAX = 20000  # include/kpieval/limits.h


def load(out):
    raw = open(os.path.join(out, "report.html"), "rb").read()
    text = raw.decode("utf-8")  # must be UTF-8
    return text, htmltree.parse(text)


def check_self_contained(name, text, page):
    tags = {t for t, _ in page.tags}
    check(tags <= ALLOWED, "%s: tags from outside the page: %s" % (name, tags - ALLOWED))
    check("script" not in tags, "%s: a script element" % name)
    check(not page.errors, "%s: badly nested: %s" % (name, page.errors[:3]))
    for tag, attrs in page.tags:
        for k, v in attrs:
            check(not k.startswith("on"), "%s: event handler %s on <%s>" % (name, k, tag))
            check(k != "src", "%s: <%s src=%r>" % (name, tag, v))
            if k == "href":
                check(v.startswith("#") or re.fullmatch(r"departments/[^:/?#]+\.csv", v),
                      "%s: link out of the report: %r" % (name, v))
    style = "".join(page.styles)
    check("@import" not in style and "url(" not in style, "%s: style sheet loads something" % name)
    check(not re.search(r"(?i)\b(https?|ftp):", text), "%s: a network address" % name)
    check(text.startswith("<!DOCTYPE html>\n"), "%s: no doctype" % name)
    meta = page.root.find("meta", charset="utf-8")
    check(meta is not None, "%s: no <meta charset=utf-8>" % name)
    check('"Noto Sans CJK KR"' in style and '"Malgun Gothic"' in style,
          "%s: no font stack for Korean" % name)
    check("size:A4" in style.replace(" ", "") and "table-header-group" in style,
          "%s: no print rules (A4, repeated headers)" % name)


def overview(page):
    return {r["department"].find("a").attrs["title"] if r["department"].find("a") else "#overall": r
            for r in htmltree.table_rows(page.root.find("table", class_="overview"))
            if r["#part"] == "tbody"} | {
        "#overall": [r for r in htmltree.table_rows(page.root.find("table", class_="overview"))
                     if r["#part"] == "tfoot"][0]}


def kpi_rows(page):
    rows = {}
    for table in page.root.iter("table"):
        if "kpis" not in table.classes():
            continue
        for r in htmltree.table_rows(table):
            if r["#part"] == "tbody":
                rows[r[None].parent.attrs["id"][len("kpi-"):]] = r
    return rows


# ---- the hostile dataset, in English and in Korean ---------------------------
ds = os.path.join(tmp, "hostile")
hostile.write(ds)
for lang in ("en", "ko"):
    out = os.path.join(tmp, "out-" + lang)
    checks.run(kpieval, "run", ds, "--out", out, "--lang", lang, "--quiet", "--jobs", "1")
    text, page = load(out)
    name = "report.html (--lang %s)" % lang
    check_self_contained(name, text, page)
    html = page.root.find("html")
    check(html is not None and html.attrs.get("lang") == lang,
          "%s: <html lang> is %r" % (name, html and html.attrs.get("lang")))

    # Hostile texts are text: the KPI's name, the department's, an extra
    # column's, the warning's; the ESC shown as \x1b.
    kpis = kpi_rows(page)
    check(kpis.get("H-1") and kpis["H-1"]["name"].text() == hostile.SCRIPT_NAME,
          "%s: H-1's name is not shown as text" % name)
    check(kpis.get("H-2") and kpis["H-2"]["name"].text() == "colour \\x1b[31mred",
          "%s: H-2's ESC not shown as \\x1b: %r" % (name, kpis.get("H-2") and kpis["H-2"]["name"].text()))
    check("\x1b" not in text, "%s: a raw ESC" % name)
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in text, "%s: <script> not escaped" % name)
    check(hostile.PWN_DEPARTMENT in page.root.text(), "%s: the <img> department not as text" % name)
    check("O'Brien <x@example>" in page.root.text(), "%s: the extra column not shown" % name)
    warn = page.root.find("section", id="warnings")
    check(warn is not None and "<script>x</script>" in warn.text(), "%s: warning not shown" % name)

    # Figures: the hand-worked ones, and those of the CSVs (2 decimals).
    rows = overview(page)
    deps = {r[("department" if lang == "en" else "부서")]: r
            for r in checks.read_csv(os.path.join(out, "departments.csv"))}
    check(set(rows) - {"#overall"} == set(deps), "%s: overview departments %s" % (name, sorted(rows)))
    for path, (ach, grade, cov) in hostile.DEPARTMENTS.items():
        r = rows.get(path)
        if not r:
            check(False, "%s: no overview row for %r" % (name, path))
            continue
        check(r["achievement"].text() == ach + "%", "%s: %s achievement %r" % (name, path, r["achievement"].text()))
        check(r["grade"].text() == grade, "%s: %s grade %r" % (name, path, r["grade"].text()))
        check(r["coverage"].text() == cov + "%", "%s: %s coverage %r" % (name, path, r["coverage"].text()))
        csvrow = list(deps[path].values())
        check(ach in csvrow and grade in csvrow and cov in csvrow,
              "%s: %s differs from departments.csv %r" % (name, path, csvrow))
    r = rows["#overall"]
    check((r["achievement"].text(), r["grade"].text(), r["coverage"].text()) ==
          tuple(x + "%" if i != 1 else x for i, x in enumerate(hostile.OVERALL)),
          "%s: overall row %r" % (name, (r["achievement"].text(), r["grade"].text())))
    # The grade note beside a grade on 1 of 3 KPIs.
    note = rows[hostile.TOP]["department"].find("div", class_="note")
    check(note is not None and "33.33%" in note.text() and ("1 of 3" in note.text() or "3개 중 1개" in note.text()),
          "%s: no grade note for %r" % (name, hostile.TOP))
    for kid, ach in hostile.KPI_ACHIEVEMENT.items():
        got = kpis.get(kid) and kpis[kid]["achievement"].text()
        check(got == ach + "%", "%s: %s achievement %r, expected %s%%" % (name, kid, got, ach))
    for k in checks.read_csv(os.path.join(out, "kpis.csv")):
        kid = k["id" if lang == "en" else "지표ID"]
        ach = k["achievement" if lang == "en" else "달성률"]
        got = kpis[kid]["achievement"].text()
        check(got == (ach + "%" if ach else "\u2013"), "%s: %s achievement %r vs kpis.csv %r" % (name, kid, got, ach))
    # How H-1 was made: formula, inputs with their lines, indicators.csv line.
    how = kpis["H-1"][None].parent.find("tr", class_="how").text()
    for piece in ("ratio(done, total)", "done = 7", "actuals.csv:2", "total = 10", "actuals.csv:3",
                  "indicators.csv:2"):
        check(piece in how, "%s: H-1's detail lacks %r" % (name, piece))
    band = kpis["H-1"]["band"].text()
    check(band.startswith("\u25bc ") and band[2:] == ("below" if lang == "en" else "미달성"),
          "%s: H-1's band %r has no mark for black and white" % (name, band))
    if lang == "ko":
        heads = [th.text() for th in page.root.find("table", class_="overview").iter("th")]
        check("달성률" in heads and "등급" in heads, "%s: headers not in Korean: %s" % (name, heads))
        check("개요" in text and "전체" in text, "%s: words not in Korean" % name)
    # The run's parameters in the footer.
    foot = page.root.find("footer").text()
    for piece in ("120%", "S \u2265 100", "D \u2265 0", "kpieval 0.", ds):
        check(piece in foot, "%s: footer lacks %r" % (name, piece))
    # The provenance: each input file with its SHA-256 (hashlib's) and rows.
    prov = page.root.find("table", class_="files")
    files = {r[0].split()[0]: r[1:] for r in
             ([td.text() for td in tr.iter("td")] for tr in (prov.iter("tr") if prov else []))
             if r}
    for f, rows_in in (("indicators.csv", len(hostile.INDICATORS)), ("actuals.csv", len(hostile.ACTUALS))):
        digest = hashlib.sha256(open(os.path.join(ds, f), "rb").read()).hexdigest()
        check(files.get(f, [None])[0] == digest and files[f][1].split()[0] == str(rows_in),
              "%s: provenance of %s: %r, expected %s, %d rows" % (name, f, files.get(f), digest, rows_in))
    # Every department's section is linked from the overview.
    for r in (r for k, r in rows.items() if k != "#overall"):
        href = r["department"].find("a").attrs["href"]
        check(href.startswith("#d-") and page.root.find("section", id=href[1:]) is not None,
              "%s: overview link %r has no section" % (name, href))

# --reports report.html alone: just it.
out = os.path.join(tmp, "only")
checks.run(kpieval, "run", ds, "--out", out, "--reports", "report.html", "--quiet")
check(sorted(os.listdir(out)) == [".kpieval-report", "report.html"], "--reports report.html wrote %s" % os.listdir(out))

# Shards merge to the same page, byte for byte (two top-level departments).
checks.run(kpieval, "run", ds, "--out", os.path.join(tmp, "whole"), "--quiet")
for i in (1, 2):
    checks.run(kpieval, "run", ds, "--out", os.path.join(tmp, "p%d" % i), "--shard", "%d/2" % i, "--quiet")
checks.run(kpieval, "merge", os.path.join(tmp, "merged"), os.path.join(tmp, "p1"), os.path.join(tmp, "p2"))
def but_run_lines(folder):
    """report.html without the provenance's lines that tell two runs apart."""
    lines = open(os.path.join(tmp, folder, "report.html"), "rb").read().split(b"\n")
    return [l for l in lines if not re.match(rb'<div class="run-(command|started|finished)">', l)]


whole, merged = but_run_lines("whole"), but_run_lines("merged")
check(whole == merged, "merged report.html differs from the whole run's")
check(len(whole) + 3 == len(open(os.path.join(tmp, "whole", "report.html"), "rb").read().split(b"\n")),
      "report.html: not one line each for command, started, finished")

# ---- above KPI_HTML_KPIS_MAX: departments and links, no KPI rows ----------------
big = os.path.join(tmp, "big")
checks.run(kpieval, "generate", str(KPIS_MAX + 1), big, "--seed", "3")
out = os.path.join(tmp, "big-out")
checks.run(kpieval, "run", big, "--out", out, "--quiet")
text, page = load(out)
check_self_contained("big report.html", text, page)
check(not kpi_rows(page) and 'id="kpi-' not in text, "big report.html: KPIs inlined")
check("(%d > %d)" % (KPIS_MAX + 1, KPIS_MAX) in text, "big report.html: the policy is not said")
deps = checks.read_csv(os.path.join(out, "departments.csv"))
rows = overview(page)
check(len(rows) - 1 == len(deps), "big report.html: %d departments listed of %d" % (len(rows) - 1, len(deps)))
links = [r["department"].find("a").attrs["href"] for k, r in rows.items() if k != "#overall"]
missing = [h for h in links if not os.path.isfile(os.path.join(out, urllib.parse.unquote(h)))]
check(links and not missing, "big report.html: links to no file: %s" % missing[:3])
for d in deps[:50]:
    r = rows[d["department"]]
    check(r["achievement"].text() == (d["achievement"] + "%" if d["achievement"] else "\u2013") and
          r["grade"].text() == d["grade"], "big report.html: %s" % d["department"])
out = os.path.join(tmp, "big-only")
checks.run(kpieval, "run", big, "--out", out, "--quiet", "--reports", "report.html")
check("href=\"departments/" not in open(os.path.join(out, "report.html"), encoding="utf-8").read(),
      "big report.html without departments/ links to it")

shutil.rmtree(tmp)
check.finish()
