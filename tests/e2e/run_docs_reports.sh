#!/usr/bin/env bash
# Keeps docs/reports.md and docs/reports.ko.md honest: their worked
# examples are run through the real binary and the figures they state are
# compared with what it writes.
#   tests/e2e/run_docs_reports.sh KPIEVAL SOURCE_DIR
#
# Markers in the docs, each on the line before a fenced block or a table:
#   <!-- example: NAME FILE -->        the block is FILE of dataset NAME
#   <!-- expect: NAME FILE [ARG...] --> `kpieval run NAME --out OUT ARG...`
#       writes OUT/FILE equal to the block (FILE `stderr`: the run's stderr);
#       NAME may be a folder of the repository (datasets/seoul-2019)
#   <!-- check: NAME -->               a table of rows
#       | department | coverage | achievement (zero) | grade (zero) |
#       | achievement (skip) | grade (skip) | ... (more columns ignored)
#       equal to departments.csv of NAME run with --unscored zero and skip
# Both files must hold the same examples, byte for byte, and at least one
# check table, so that deleting a marker does not make the test pass.
bin=$(realpath "$1") src=$(realpath "$2")
. "$(dirname "$0")/../batch/lib.sh"

python3 - "$bin" "$src" "$tmp" <<'PY'
import csv, io, os, re, subprocess, sys

binary, src, tmp = sys.argv[1:]
failures = 0

def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)

def ok(msg):
    print("ok: " + msg)

MARK = re.compile(r"^<!--\s*(example|expect|check):\s*(.*?)\s*-->\s*$")

def parse(path):
    """The marked blocks of a doc: (kind, words, lines, line number)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        kind, words, at = m.group(1), m.group(2).split(), i + 1
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        body = []
        if kind == "check":  # a markdown table
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                body.append(lines[i])
                i += 1
        elif i < len(lines) and lines[i].startswith("```"):
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            i += 1
        else:
            fail("%s:%d: marker not followed by a fenced block" % (path, at))
            continue
        out.append((kind, words, body, at))
    return out

def run(dataset, outdir, args):
    p = subprocess.run([binary, "run", dataset, "--out", outdir, "--quiet"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if p.returncode not in (0, 1):
        fail("kpieval run %s %s: exit %d: %s" % (dataset, " ".join(args), p.returncode,
                                                 p.stderr.decode("utf-8", "replace")))
    return p.stderr.decode("utf-8")

def text_of(path):
    t = open(path, encoding="utf-8").read()
    return t[1:] if t.startswith("\ufeff") else t

def departments(dataset, outdir, args):
    run(dataset, outdir, args)
    with open(os.path.join(outdir, "departments.csv"), encoding="utf-8-sig") as f:
        return {r[0]: r for r in list(csv.reader(f))[1:]}

examples_of = {}
for doc in ("docs/reports.md", "docs/reports.ko.md"):
    path = os.path.join(src, doc)
    if not os.path.exists(path):
        fail("%s does not exist" % doc)
        continue
    blocks = parse(path)
    root = os.path.join(tmp, os.path.basename(doc))
    examples = {}
    for kind, words, body, at in blocks:
        if kind == "example":
            name, fname = words
            os.makedirs(os.path.join(root, name), exist_ok=True)
            with open(os.path.join(root, name, fname), "w", encoding="utf-8") as f:
                f.write("\n".join(body) + "\n")
            examples[(name, fname)] = body
    examples_of[doc] = examples

    def dataset(name):
        return os.path.join(root, name) if any(n == name for n, _ in examples) \
            else os.path.join(src, name)

    n_expect = n_check = 0
    for k, (kind, words, body, at) in enumerate(blocks):
        where = "%s:%d" % (doc, at)
        if kind == "expect":
            name, fname, args = words[0], words[1], words[2:]
            outdir = os.path.join(root, "out-expect-%d" % k)
            err = run(dataset(name), outdir, args)
            got = err if fname == "stderr" else text_of(os.path.join(outdir, fname))
            want = "\n".join(body) + "\n"
            if got == want:
                ok("%s: %s of %s %s" % (where, fname, name, " ".join(args)))
                n_expect += 1
            else:
                fail("%s: %s of %s %s differs from the doc\n--- doc\n%s--- kpieval\n%s"
                     % (where, fname, name, " ".join(args), want, got))
        elif kind == "check":
            name = words[0]
            got = {p: departments(dataset(name), os.path.join(root, "out-%s-%d" % (p, k)),
                                  ["--unscored", p]) for p in ("zero", "skip")}
            rows = [[c.strip().strip("`*") for c in l.strip().strip("|").split("|")]
                    for l in body]
            rows = [r for r in rows[2:]]  # header and rule
            if not rows:
                fail("%s: empty check table" % where)
            bad = 0
            for r in rows:
                dep = r[0]
                if dep not in got["zero"]:
                    fail("%s: department %r not in departments.csv" % (where, dep))
                    bad += 1
                    continue
                z, s = got["zero"][dep], got["skip"][dep]
                # departments.csv: coverage 6, achievement 7, grade 8
                want = [("coverage", r[1], z[6]), ("achievement under zero", r[2], z[7]),
                        ("grade under zero", r[3], z[8]), ("achievement under skip", r[4], s[7]),
                        ("grade under skip", r[5], s[8]), ("coverage under skip", r[1], s[6])]
                for what, doc_says, kpieval_says in want:
                    if doc_says.rstrip("%") != kpieval_says:
                        fail("%s: %s: %s: the doc says %s, kpieval %s"
                             % (where, dep, what, doc_says, kpieval_says))
                        bad += 1
            if not bad:
                ok("%s: check table of %s (%d departments, zero and skip)" % (where, name, len(rows)))
            n_check += 1
    if n_check == 0:
        fail("%s: no check table (<!-- check: NAME -->)" % doc)
    if n_expect == 0:
        fail("%s: no expected output (<!-- expect: ... -->)" % doc)

if len(examples_of) == 2:
    a, b = examples_of.values()
    if a == b and a:
        ok("both docs carry the same example data (%d files)" % len(a))
    else:
        fail("the example data of docs/reports.md and docs/reports.ko.md differ")

if failures:
    print("%d failure(s)" % failures)
    sys.exit(1)
PY
[ $? = 0 ] || fail "see above"
finish
