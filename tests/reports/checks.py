"""What the report tests share: counting checks, running kpieval, reading
a report's CSV."""
import csv
import subprocess
import sys


class Checks:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def run(kpieval, *args):
    """kpieval ARGS, which must exit 0 or 1 (some KPIs not ok)."""
    p = subprocess.run([kpieval, *args], stdin=subprocess.DEVNULL, capture_output=True)
    if p.returncode not in (0, 1):
        print("kpieval %s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr.decode()))
        sys.exit(1)
    return p


def read_csv(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))
