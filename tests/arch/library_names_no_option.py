#!/usr/bin/env python3
"""The library never names a command-line option (issue 10).

Reads every string literal in the library's sources (engine/*.c and *.h,
include/kpieval/*.h) but the command line's own files, and fails on one that
holds an option's name, "--" and a letter: a message that tells people which
flag to use belongs to engine/options.c, which maps an error's setting to
its option. Comments may talk about options; only literals are checked.

usage: library_names_no_option.py SOURCE_DIR
"""
import pathlib
import re
import sys

COMMAND_LINE = {"cli.c", "cli.h", "options.c", "options.h", "main.c"}
OPTION = re.compile(r"--[A-Za-z]")


def literals(text):
    """(line, body) of each string literal, comments and char literals skipped."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            j, start = i + 1, line
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    line += 1
                j += 1
            if c == '"':
                yield start, text[i + 1:j]
            i = j + 1
        else:
            i += 1


def main():
    root = pathlib.Path(sys.argv[1])
    files = sorted(root.glob("engine/*.[ch]")) + sorted(root.glob("include/kpieval/*.h"))
    files = [f for f in files if f.name not in COMMAND_LINE]
    if len(files) < 20:
        print("found only %d library sources under %s" % (len(files), root))
        return 1
    bad = 0
    for f in files:
        for line, body in literals(f.read_text(encoding="utf-8")):
            if OPTION.search(body):
                print('%s:%d: names an option: "%s"' % (f.relative_to(root), line, body))
                bad += 1
    if bad:
        print("%d library strings name an option; say the setting in the library's words "
              "and set err->setting (kpi_error_setting), the command line names the option" % bad)
        return 1
    print("ok: %d library sources, no option named in a string" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
