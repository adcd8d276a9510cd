#!/usr/bin/env python3
"""Compare a peer's kpis.csv and departments.csv with kpieval's.

usage: check.py REFERENCE_OUT PEER_OUT [PEER_OUT ...]

Rows are matched by `id` (kpis.csv) and by `department` (departments.csv),
never by position. For each KPI the status, actual, achievement and
achievement_capped must agree; for each department the counts (kpis, ok,
missing, error, invalid), the achievement and the grade. Numbers are
compared as numbers (`65` equals `65.0`), an empty cell only equals an empty
cell. Other columns (name, inputs, message ...) are not compared.

Prints one summary line per peer and the first few differences; exits 0
when every peer agrees, 1 when one does not, 2 on a usage or file error.
Standard library only, so it runs under any python3.
"""
import csv
import sys

KPI_FIELDS = ("status", "actual", "achievement", "achievement_capped")
DEPARTMENT_FIELDS = ("kpis", "ok", "missing", "error", "invalid", "achievement", "grade")
TEXT_FIELDS = {"status", "grade"}
EXAMPLES = 5

csv.field_size_limit(1 << 30)


def _read(path, key, fields):
    """{key: tuple of fields} from a CSV file with a header."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file")
        missing = [c for c in (key,) + fields if c not in header]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)}")
        k = header.index(key)
        idx = [header.index(c) for c in fields]
        rows = {}
        duplicates = 0
        for row in reader:
            if not row:
                continue
            if row[k] in rows:
                duplicates += 1
            rows[row[k]] = tuple(row[i] for i in idx)
        return rows, duplicates


def _same(field, a, b):
    if field in TEXT_FIELDS:
        return a == b
    a, b = a.strip(), b.strip()
    if a == "" or b == "":
        return a == b
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


class Table:
    """One output file of the reference, loaded once, compared many times."""

    def __init__(self, path, key, fields):
        self.name = path.rsplit("/", 1)[-1]
        self.key, self.fields = key, fields
        self.rows, self.duplicates = _read(path, key, fields)

    def compare(self, path):
        """(number of rows that differ, list of example lines)."""
        try:
            peer, duplicates = _read(path, self.key, self.fields)
        except (OSError, ValueError) as e:
            return len(self.rows) or 1, [str(e)]
        bad, examples = 0, []

        def note(text):
            if len(examples) < EXAMPLES:
                examples.append(f"{self.name}: {text}")

        if duplicates:
            bad += duplicates
            note(f"{duplicates} duplicate {self.key} values in the peer's file")
        for key, want in self.rows.items():
            got = peer.get(key)
            if got is None:
                bad += 1
                note(f"{self.key} {key!r}: missing from the peer's file")
                continue
            diffs = [
                f"{f} {g!r} (kpieval {w!r})"
                for f, w, g in zip(self.fields, want, got)
                if not _same(f, w, g)
            ]
            if diffs:
                bad += 1
                note(f"{self.key} {key!r}: " + ", ".join(diffs))
        extra = [k for k in peer if k not in self.rows]
        if extra:
            bad += len(extra)
            note(f"{len(extra)} {self.key} values kpieval does not have, e.g. {extra[0]!r}")
        return bad, examples


class Reference:
    """kpieval's kpis.csv and departments.csv in folder `out`."""

    def __init__(self, out):
        self.kpis = Table(f"{out}/kpis.csv", "id", KPI_FIELDS)
        self.departments = Table(f"{out}/departments.csv", "department", DEPARTMENT_FIELDS)

    def compare(self, out):
        """(KPI rows that differ, department rows that differ, examples)."""
        bad_kpis, ex1 = self.kpis.compare(f"{out}/kpis.csv")
        bad_deps, ex2 = self.departments.compare(f"{out}/departments.csv")
        return bad_kpis, bad_deps, ex1 + ex2


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        ref = Reference(argv[1])
    except (OSError, ValueError) as e:
        print(f"check: {e}", file=sys.stderr)
        return 2
    status = 0
    for out in argv[2:]:
        bad_kpis, bad_deps, examples = ref.compare(out)
        if bad_kpis or bad_deps:
            status = 1
            print(f"{out}: DISAGREES: {bad_kpis} of {len(ref.kpis.rows)} KPIs, "
                  f"{bad_deps} of {len(ref.departments.rows)} departments")
            for line in examples:
                print(f"  {line}")
        else:
            print(f"{out}: agrees ({len(ref.kpis.rows)} KPIs, "
                  f"{len(ref.departments.rows)} departments)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
