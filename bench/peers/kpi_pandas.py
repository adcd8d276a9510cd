#!/usr/bin/python3
"""The benchmark's pandas peer: kpieval's kpis.csv and departments.csv for a
`kpieval generate` dataset, vectorised (no Python loop over rows).

usage: /usr/bin/python3 kpi_pandas.py DIR OUT   (OUT must exist)

The distinct formula texts are matched against the generator's shapes with
vectorised regular expressions (a few hundred texts, not one per KPI); the
inputs are joined through a dense KPI x input-name matrix filled by fancy
indexing; evaluation, scoring and the roll-up are numpy expressions and
groupby sums, one per department level. Other formula shapes and the
`baseline` and expression scoring rules give status error; the inputs and
message columns are left empty.
"""
import sys

import numpy as np
import pandas as pd

CAP = 120.0
NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
S = r"\s*"

# shape -> regular expression over the whole formula text
SHAPES = {
    "input": rf"^{S}{NAME}{S}$",
    "ratio": rf"^{S}ratio{S}\({S}{NAME}{S},{S}{NAME}{S}\){S}$",
    "progress": rf"^{S}progress{S}\({S}{NAME}{S},{S}{NAME}{S}\){S}$",
    "growth": rf"^{S}growth{S}\({S}{NAME}{S},{S}{NAME}{S}\){S}$",
    "sum": rf"^{S}sum{S}\({S}{NAME}{S},{S}{NAME}{S}(?:,{S}{NAME}{S})?\){S}$",
    "div100": rf"^{S}{NAME}{S}/{S}{NAME}{S}\*{S}100{S}$",
    "share3": rf"^{S}\({S}{NAME}{S}\+{S}{NAME}{S}\){S}/{S}{NAME}{S}\*{S}100{S}$",
    "diff": rf"^{S}{NAME}{S}-{S}{NAME}{S}$",
}
KINDS = list(SHAPES) + ["other"]
K = {k: i for i, k in enumerate(KINDS)}


def parse_formulas(texts):
    """Per distinct formula text: kind code and up to three input names."""
    texts = pd.Series(texts, dtype=object)
    kind = np.full(len(texts), K["other"])
    names = pd.DataFrame({1: "", 2: "", 3: ""}, index=texts.index, dtype=object)
    for shape, regex in SHAPES.items():
        found = texts.str.extract(regex).fillna("")
        hit = (found.iloc[:, 0] != "").to_numpy() & (kind == K["other"])
        kind[hit] = K[shape]
        for j in range(found.shape[1]):
            names.loc[hit, j + 1] = found.iloc[:, j][hit]
    return kind, names


def format_number(x):
    """%.15g with -0 as 0; '' where NaN."""
    text = np.char.mod("%.15g", np.where(np.isnan(x), 0.0, x) + 0.0)
    return np.where(np.isnan(x), "", text)


def format_rate(x):
    """Two decimals, half away from zero on the 15-significant-digit value
    (so 1.005 gives 1.01): the digits of %.14e, read as a byte matrix, are
    rounded as whole numbers. '' where NaN."""
    nan = np.isnan(x)
    ax = np.abs(np.where(nan, 0.0, x))
    sci = np.char.mod("%.14e", ax).astype("S24").view(np.uint8).reshape(len(ax), 24)
    digits = sci[:, [0] + list(range(2, 16))].astype(np.int64) - 48  # 15 digits
    exp_len = (sci[:, 18:] != 0).sum(axis=1)  # "e+02" or "e+102"
    exp_digits = sci[:, 18:21].astype(np.int64) - 48
    exp10 = np.where(exp_len == 2, exp_digits[:, 0] * 10 + exp_digits[:, 1],
                     exp_digits[:, 0] * 100 + exp_digits[:, 1] * 10 + exp_digits[:, 2])
    exp10 = np.where(sci[:, 17] == ord("-"), -exp10, exp10)
    pow10 = 10 ** np.arange(19, dtype=np.int64)
    mantissa = digits @ pow10[14::-1]
    keep = np.clip(exp10 + 3, -1, 17)  # digits with place value >= 10^-2
    inside = np.clip(keep, 0, 15)
    kept = mantissa // pow10[15 - inside]
    next_digit = (mantissa // pow10[np.clip(14 - keep, 0, 14)]) % 10
    kept = np.where(keep < 15, kept + (next_digit >= 5), mantissa * pow10[np.clip(keep - 15, 0, 2)])
    kept = np.where(keep < 0, 0, kept)
    signed = np.where((x < 0) & (kept > 0), -kept, kept)
    # kept / 100 is the double nearest the 2-decimal value: %.2f shows it exactly.
    text = np.char.mod("%.2f", signed / 100.0)
    return np.where(nan, "", text)


def main(argv):
    if len(argv) != 3:
        print("usage: kpi_pandas.py DIR OUT", file=sys.stderr)
        return 2
    src, out = argv[1], argv[2]
    ind = pd.read_csv(f"{src}/indicators.csv", dtype=str, keep_default_na=False,
                      na_filter=False, engine="c")
    act = pd.read_csv(f"{src}/actuals.csv", dtype={"indicator": str, "input": str},
                      keep_default_na=False, na_filter=False, engine="c")
    for column in ("unit", "direction", "baseline", "weight", "scoring"):
        if column not in ind:
            ind[column] = ""
    n = len(ind)

    # Inputs: a dense matrix, KPI by input name, NaN where absent.
    input_names = pd.Index(act["input"].unique())
    rows = pd.Index(ind["id"]).get_indexer(act["indicator"])
    known = rows >= 0
    inputs = np.full((n, len(input_names)), np.nan)
    inputs[rows[known], input_names.get_indexer(act["input"])[known]] = \
        act["value"].to_numpy(dtype=float)[known]

    # Formula shapes, once per distinct text.
    formula = ind["formula"].astype("category")
    kind_of, names_of = parse_formulas(formula.cat.categories)
    codes = formula.cat.codes.to_numpy()
    kind = kind_of[codes]
    every = np.arange(n)

    def value_of(j):
        col = input_names.get_indexer(names_of[j].to_numpy(dtype=object))[codes]
        return np.where(col >= 0, inputs[every, np.maximum(col, 0)], np.nan), \
            names_of[j].to_numpy(dtype=object)[codes] != ""

    (a, _), (b, need_b), (c, need_c) = value_of(1), value_of(2), value_of(3)
    other = kind == K["other"]
    missing = ~other & (np.isnan(a) | (need_b & np.isnan(b)) | (need_c & np.isnan(c)))

    with np.errstate(all="ignore"):
        actual = np.select(
            [kind == K["input"], np.isin(kind, [K["ratio"], K["div100"], K["progress"]]),
             kind == K["sum"], kind == K["share3"], kind == K["growth"], kind == K["diff"]],
            [a, a / b * 100, a + b + np.where(need_c, c, 0.0), (a + b) / c * 100,
             (a - b) / np.abs(b) * 100, a - b],
            np.nan)
        plugin_error = (((kind == K["ratio"]) | (kind == K["growth"])) & (b == 0)) | \
            ((kind == K["progress"]) & (b <= 0))
        error = ~missing & (other | plugin_error | ~np.isfinite(actual))
        evaluated = ~missing & ~error

        # Scoring.
        t = pd.to_numeric(ind["target"], errors="coerce").to_numpy(dtype=float)
        weight_text = ind["weight"].where(ind["weight"] != "", "1")
        w = pd.to_numeric(weight_text, errors="coerce").to_numpy(dtype=float)
        direction = ind["direction"].to_numpy(dtype=object)
        scoring = ind["scoring"].to_numpy(dtype=object)
        invalid = np.isnan(t) | np.isnan(w) | (w < 0) | (w > 1e9) | \
            ~np.isin(direction, ["", "increase", "decrease"])
        dec = direction == "decrease"
        ratio_rule, linear, binary = scoring == "", scoring == "linear", scoring == "binary"
        met = np.where(dec, actual <= t, actual >= t)
        rate = np.select(
            [binary | (t == 0), ~dec, linear, actual == 0],
            [np.where(met, 100.0, 0.0), actual / t * 100, (2 - actual / t) * 100, CAP],
            t / actual * 100)
        score_error = ~(ratio_rule | linear | binary) | \
            ((ratio_rule | linear) & (t < 0)) | (ratio_rule & dec & (actual < 0)) | \
            ~np.isfinite(rate)
    status = np.select([invalid, missing, error, score_error], [3, 1, 2, 2], 0)
    ok = status == 0
    rate = np.where(ok, np.maximum(rate, 0.0), np.nan)
    capped = np.minimum(rate, CAP)
    status_name = np.array(["ok", "missing", "error", "invalid"], dtype=object)[status]

    kpis = pd.DataFrame({
        "id": ind["id"], "name": ind["name"], "department": ind["department"],
        "unit": ind["unit"], "direction": np.where(dec, "decrease", "increase"),
        "baseline": ind["baseline"], "target": ind["target"], "formula": ind["formula"],
        "inputs": "",
        "actual": format_number(np.where(evaluated & ~invalid, actual, np.nan)),
        "achievement": format_rate(rate), "achievement_capped": format_rate(capped),
        "weight": weight_text, "status": status_name, "message": "",
    })
    kpis.to_csv(f"{out}/kpis.csv", index=False)

    # Roll-up: one groupby per department level, over the distinct paths.
    department = ind["department"].astype("category")
    levels = department.cat.categories.str.split("/")
    depth = levels.str.len().to_numpy()
    dep_codes = department.cat.codes.to_numpy()
    totals = pd.DataFrame({
        "kpis": 1, "ok": ok.astype(int), "missing": (status == 1).astype(int),
        "error": (status == 2).astype(int), "invalid": (status == 3).astype(int),
        "weight": np.where(ok, w, 0.0), "weighted": np.where(ok, w * capped, 0.0),
    })
    parts = []
    for level in range(1, depth.max() + 1):
        prefix = levels.str[:level].str.join("/").to_numpy(dtype=object)
        deep_enough = (depth >= level)[dep_codes]
        key = prefix[dep_codes][deep_enough]
        parts.append(totals[deep_enough].groupby(key, sort=False).sum())
    deps = pd.concat(parts)
    deps = deps[~deps.index.duplicated(keep="first")]
    # Tree order: level by level, so '/' sorts before any other byte.
    order = np.argsort(deps.index.str.replace("/", "\x01", regex=False).to_numpy(dtype=str),
                       kind="stable")
    deps = deps.iloc[order]
    with np.errstate(all="ignore"):
        achievement = (deps["weighted"] / deps["weight"]).to_numpy()
    achievement = np.where((deps["weight"] > 0).to_numpy() & np.isfinite(achievement),
                           achievement, np.nan)
    grade = np.select([achievement >= 100, achievement >= 90, achievement >= 80,
                       achievement >= 70, achievement >= 0], ["S", "A", "B", "C", "D"], "")
    table = pd.DataFrame({
        "department": deps.index,
        **{c: deps[c].to_numpy() for c in ("kpis", "ok", "missing", "error", "invalid")},
        "achievement": format_rate(achievement), "grade": grade,
    })
    table.to_csv(f"{out}/departments.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
