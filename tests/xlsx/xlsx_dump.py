#!/usr/bin/env python3
"""Prints report.xlsx as text, every member of the zip in order, leaving out
what tells two runs apart (as tests/batch/same_report.sh does for
report.json): the created and modified times, and the command, started and
finished of the provenance (custom properties and rows of its sheet).

    xlsx_dump.py REPORT.xlsx [--no-digests]

--no-digests also leaves out the provenance's rows of files (their SHA-256),
for two runs over the same data in other bytes (tests/e2e/run_encoding.sh).
"""
import re
import sys
import zipfile

RUN = ("command", "started", "finished", "명령", "시작", "종료")

z = zipfile.ZipFile(sys.argv[1])
book = z.read("xl/workbook.xml").decode()
sheets = re.findall(r'<sheet name="([^"]*)"', book)
last = "xl/worksheets/sheet%d.xml" % len(sheets)
for item in z.infolist():
    data = z.read(item.filename).decode("utf-8", "replace")
    if item.filename == "docProps/core.xml":
        data = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*", r"\1", data)
    elif item.filename == "docProps/custom.xml":
        data = re.sub(r'<property [^>]*name="(?:command|started|finished)">.*?</property>', "", data)
    elif item.filename == last and sheets[-1] in ("provenance", "출처"):
        if "--no-digests" in sys.argv:
            data = re.sub(r'<row r="\d+"[^>]*>(?:(?!</row>).)*<t>[0-9a-f]{64}</t>.*?</row>', "", data)
        data = re.sub(r'<row r="\d+"[^>]*><c r="A\d+"[^>]*><is><t>(?:%s)</t></is></c>.*?</row>' % "|".join(RUN),
                      "", data)
    print("== %s\n%s" % (item.filename, data))
