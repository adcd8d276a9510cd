#!/usr/bin/env bash
# Keeps docs/formulas.md and docs/formulas.ko.md honest: every command they
# show is run through the real binary and its output compared with the
# output the guide shows.
#   tests/e2e/run_docs_formulas.sh KPIEVAL SOURCE_DIR [--show]
#
# What runs, in the order of the guide, in one scratch folder per guide that
# holds copies of datasets/ and examples/ (so `cp -r datasets/seoul-2019
# my-plan` and `examples/youth-jobs` work as from the repository's root):
#   ```console blocks   each `$ COMMAND` line runs in bash (`kpieval` is the
#       binary under test); the lines up to the next `$ ` are its stdout and
#       stderr together, compared exactly (trailing blank lines aside). A
#       line `...` stands for any number of lines. A command line ending in
#       `\`, or inside a '-quoted string, goes on on the next line (shown
#       with a `> ` prompt, as a shell does). `$?` is the previous command's status,
#       so `$ echo $?` shows an exit status.
#   <!-- doc-test: file PATH -->    the next fenced block is written to PATH
#   <!-- doc-test: append PATH -->  the next fenced block is added to PATH
#   <!-- doc-test: pending -->      the next fenced block is not run (nor
#       written, when a file or append marker follows on the next line): it
#       shows a feature not merged yet; remove the marker once it is.
# Other fenced blocks (```sh, ```lua, ```csv) are text only.
#
# The standard library's folder, wherever this build finds it, is printed as
# the installed one, /usr/local/share/kpieval/formulas. Both guides must show
# the same commands and files in the same order (a translation that drifts
# fails), and each must run at least one block. --show prints what kpieval
# printed for every command, to write a new example from (then check it).
bin=$(realpath "$1") src=$(realpath "$2")
. "$(dirname "$0")/../batch/lib.sh"

python3 - "$bin" "$src" "$tmp" "${3:-}" <<'PY'
import os, re, shutil, subprocess, sys

binary, src, tmp, show = sys.argv[1:]
failures = 0
INSTALLED = "/usr/local/share/kpieval/formulas"

def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)

def ok(msg):
    print("ok: " + msg)

MARK = re.compile(r"^<!--\s*doc-test:\s*(pending|file|append)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(`{3,})\s*([\w-]*)")

def parse(path):
    """The steps of a guide: (kind, argument, body lines, line number, pending);
    kind is console, file, append or text (a block only a pending marker
    named)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    steps, mark, pending, i = [], None, None, 0

    def dangling(at):
        fail("%s:%d: marker not followed by a fenced block" % (path, at))

    while i < len(lines):
        m, f = MARK.match(lines[i]), FENCE.match(lines[i])
        if m and m.group(1) == "pending":
            if pending or mark:
                dangling((pending or mark)[-1])
                mark = None
            pending = (i + 1,)
            i += 1
            continue
        if m:
            if mark:
                dangling(mark[2])
            mark = (m.group(1), m.group(2), i + 1)
            i += 1
            continue
        if not f:
            if (mark or pending) and lines[i].strip():
                dangling((mark or pending)[-1])
                mark = pending = None
            i += 1
            continue
        fence, lang, at = f.group(1), f.group(2), i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        if mark:
            kind, arg = mark[0], mark[1]
        elif lang == "console":
            kind, arg = "console", ""
        elif pending:
            kind, arg = "text", lang
        else:
            continue
        if kind in ("file", "append") and not arg:
            fail("%s:%d: doc-test: %s needs a path" % (path, at, kind))
        else:
            steps.append((kind, arg, body, at, bool(pending)))
        mark = pending = None
    if mark or pending:
        dangling((mark or pending)[-1])
    return steps

def commands(body, where):
    """A console block's commands with the output each should print."""
    out, cmd, want = [], None, []
    it = iter(body)
    for line in it:
        if line.startswith("$ "):
            if cmd is not None:
                out.append((cmd, want))
            cmd, want = line[2:], []
            # continued after a `\`, or shell-style as `> ` lines inside a quote
            while cmd.endswith("\\") or cmd.count("'") % 2:
                more = next(it, None)
                if more is None:
                    break
                cmd += "\n" + (more[2:] if more.startswith("> ") else more)
        elif cmd is None:
            if line.strip():
                fail("%s: output before the first `$ ` line: %r" % (where, line))
        else:
            want.append(line)
    if cmd is not None:
        out.append((cmd, want))
    return out

def trim(lines):
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines

def matches(want, got):
    """want (with `...` lines) against got, line by line."""
    if not want:
        return not got
    if want[0] == "...":
        return any(matches(want[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and want[0] == got[0] and matches(want[1:], got[1:])

def run_console(cmds, work, env):
    """Runs a block's commands in one bash; returns each one's output."""
    script = ["exec 2>&1 </dev/null", "__rc=0"]
    for k, (cmd, _) in enumerate(cmds):
        script.append("printf '\\n@@doc-test %d@@\\n'" % k)
        script.append("(exit $__rc)")
        script.append(cmd)
        script.append("__rc=$?")
    script.append("printf '\\n@@doc-test end@@\\n'")
    p = subprocess.run(["timeout", "300", "bash", "-c", "\n".join(script)], cwd=work, env=env,
                       stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    text = p.stdout.decode("utf-8", "replace").replace(os.path.realpath(os.path.join(src, "formulas")),
                                                       INSTALLED)
    parts = re.split(r"\n@@doc-test (?:\d+|end)@@\n", text)
    return [trim(part.split("\n")) for part in parts[1:len(cmds) + 1]]

# `kpieval` in the commands is the binary under test.
bindir = os.path.join(tmp, "bin")
os.makedirs(bindir)
os.symlink(binary, os.path.join(bindir, "kpieval"))
env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
           LC_ALL="C.UTF-8", SOURCE_DATE_EPOCH="1577836800", TZ="UTC")
env.pop("KPIEVAL_STDLIB", None)

shown = {}
for doc in ("docs/formulas.md", "docs/formulas.ko.md"):
    path = os.path.join(src, doc)
    if not os.path.exists(path):
        fail("%s does not exist" % doc)
        continue
    work = os.path.join(tmp, os.path.basename(doc))
    os.makedirs(work)
    for d in ("datasets", "examples"):
        shutil.copytree(os.path.join(src, d), os.path.join(work, d), symlinks=True)
    steps = parse(path)
    shown[doc] = [(kind, arg, body, pending) for kind, arg, body, _, pending in steps]
    n_run = n_pending = 0
    for kind, arg, body, at, pending in steps:
        where = "%s:%d" % (doc, at)
        if pending:
            n_pending += 1
            continue
        if kind in ("file", "append"):
            target = os.path.join(work, arg)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "a" if kind == "append" else "w", encoding="utf-8") as f:
                f.write("\n".join(body) + "\n")
            continue
        cmds = commands(body, where)
        if not cmds:
            fail("%s: a console block without a `$ ` command" % where)
            continue
        got = run_console(cmds, work, env)
        for k, (cmd, want) in enumerate(cmds):
            out = got[k] if k < len(got) else ["(not run: the block stopped early)"]
            if show:
                print("--- %s: $ %s\n%s" % (where, cmd, "\n".join(out)))
            if matches(trim(want), out):
                ok("%s: $ %s" % (where, cmd.split("\n")[0]))
            else:
                fail("%s: $ %s\n--- the guide shows\n%s\n--- kpieval printed\n%s"
                     % (where, cmd, "\n".join(trim(want)), "\n".join(out)))
        n_run += 1
    if n_run == 0:
        fail("%s: no console block ran" % doc)
    print("%s: %d console blocks run, %d pending blocks skipped" % (doc, n_run, n_pending))

if len(shown) == 2:
    en, ko = shown["docs/formulas.md"], shown["docs/formulas.ko.md"]
    if en == ko:
        ok("both guides show the same commands, output and files (%d blocks)" % len(en))
    else:
        for k in range(max(len(en), len(ko))):
            a = en[k] if k < len(en) else None
            b = ko[k] if k < len(ko) else None
            if a != b:
                fail("the guides differ from block %d on: formulas.md %r, formulas.ko.md %r"
                     % (k + 1, a and (a[0], a[1], a[2][:2]), b and (b[0], b[1], b[2][:2])))
                break

if failures:
    print("%d failure(s)" % failures)
    sys.exit(1)
PY
[ $? = 0 ] || fail "see above"
finish
