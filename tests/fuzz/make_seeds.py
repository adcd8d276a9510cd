#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/seed-*.

Seeds are small meaningful inputs: files from tests/e2e/cases and the
shipped dataset, and hand-made edge cases (quoting, BOM, CRLF, CP949,
numbers like 1e400, 3,000 and nan, hostile formulas). Re-running replaces
every seed-* file and leaves the others (bug-* reproductions, inputs merged
by run_fuzz.sh) alone. The input layout of each target is described at the
top of its fuzz_<target>.c.
"""
import csv
import io
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CASES = os.path.join(ROOT, "tests", "e2e", "cases")


def case_file(case, name):
    path = os.path.join(CASES, case, "dataset", name)
    with open(path, "rb") as f:
        return f.read()


def case_period(case):
    try:
        with open(os.path.join(CASES, case, "args")) as f:
            args = f.read().split()
    except FileNotFoundError:
        return None
    return args[args.index("--period") + 1] if "--period" in args else None


def write_corpus(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("seed-"):
            os.remove(os.path.join(folder, name))
    names = set()
    for name, data in seeds:
        assert name not in names, name
        names.add(name)
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(folder, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"corpus/{target}: {len(seeds)} seeds")


# ---- csv -------------------------------------------------------------------

CSV_CASES = [
    "format_quoted", "format_bom_crlf", "format_numbers", "kpi_columns", "rollup_tree",
    "bad_unterminated_quote", "bad_ragged_row", "bad_ragged_row_after_multiline",
    "bad_utf8_cp949", "bad_nul_byte", "bad_cr_only_line_ends", "bad_duplicate_header",
    "bad_empty_header_name", "bad_header_only",
]

csv_seeds = []
for case in CSV_CASES:
    csv_seeds.append((f"e2e-{case}-indicators.csv", case_file(case, "indicators.csv")))
csv_seeds += [
    ("e2e-periods_select-actuals.csv", case_file("periods_select", "actuals.csv")),
    ("e2e-format_bom_crlf-actuals.csv", case_file("format_bom_crlf", "actuals.csv")),
    ("quoted-newline-and-quotes", 'a,b,c\n"x\ny","say ""hi""",\n"",z,"3,000"\n'),
    ("quote-inside-unquoted", 'a,b\nx"y,1\n'),
    ("text-after-closing-quote", 'a,b\n"x"y,1\n'),
    ("unterminated-quote-at-eof", 'a,b\n1,"open\n2,3\n'),
    ("bom-only", b"\xef\xbb\xbf"),
    ("bom-header", b"\xef\xbb\xbfid,name\r\n1,x\r\n"),
    ("crlf-spaces", "  id , name  \r\n  1 ,  x  \r\n\r\n 2 , y \r\n"),
    ("blank-and-space-lines", "a,b\n\n   \n1,2\n\n\n3,4\n"),
    ("one-column-blank-lines", "a\n\nx\n \ny\n"),
    ("commas-only", "a,b,c\n,,\n,,\n"),
    ("no-final-newline", "a,b\n1,2"),
    ("cr-at-eof", "a,b\n1,2\r"),
    ("cr-mixed-with-lf", "a,b\r1,2\n3,4\r\n"),
    ("cr-only", "a,b\r1,2\r"),
    ("empty", ""),
    ("newline-only", "\n"),
    ("stop-callback", "a,b\n1,STOP\n2,3\n"),
    ("utf8-4byte", "이름,값\n😀,가나다\n"),
    ("utf8-overlong", b"a,b\n\xc0\x80,1\n"),
    ("utf8-surrogate", b"a,b\n\xed\xa0\x80,1\n"),
    ("utf8-truncated", b"a,b\n1,\xea\xb0"),
    ("utf8-lone-continuation", b"a,b\n\x80,1\n"),
    ("cp949", "id,name\nK1,취업률\n".encode("cp949")),
    ("cp949-mixed-ascii", "id,name,department\nK1,일자리,서울특별시\n".encode("cp949")),
    ("nul-in-field", b"a,b\n1,\x002\n"),
    ("1025-fields", ",".join(str(i) for i in range(1025)) + "\n"),
    ("1024-fields", ",".join(str(i) for i in range(1024)) + "\n"),
    ("multiline-row-numbers", 'a,b\n"1\n\n\n",2\n3,"4\n5"\n6,7\n'),
    ("ragged-after-quote", 'a,b\n"x\ny"\n'),
]

# ---- numbers ---------------------------------------------------------------

number_texts = [
    "3000", "-2.5", "65.0", "1e3", " 1e3 ", "\t42\t", "+.5", "5.", ".5", "00012", "-0",
    "1E-5", "1e+308", "1e400", "-1e400", "1e-400", "4.9e-324", "2.2250738585072014e-308",
    "1.7976931348623157e308", "1.7976931348623159e308", "3,000", "1,234,567.5", "1,23",
    "12,345,67", "nan", "NaN", "-inf", "Infinity", "+infinity", "0x10", "12a", "1.2.3", "",
    " ", ".", "-", "e5", "1e", "1e+", "1.005", "0.125", "999999999999999.5", "-0.004999",
    "0.005", "-0.005", "123456789012345678901234567890",
]
numbers_seeds = [(f"text-{i:02d}", t) for i, t in enumerate(number_texts)]
for name, x in [("nan", float("nan")), ("inf", float("inf")), ("neg-zero", -0.0),
                ("subnormal", 5e-324), ("max", 1.7976931348623157e308),
                ("half", 1.005), ("rate-carry", 99.995), ("big-rate", 1e300)]:
    numbers_seeds.append((f"double-{name}", struct.pack("<d", x)))
numbers_seeds += [
    ("utf8-hangul", "가나다"), ("utf8-4byte", "😀"),
    ("cp949", "취업률".encode("cp949")), ("overlong", b"\xc0\xaf"),
    ("surrogate", b"\xed\xa0\x80"), ("above-max", b"\xf4\x90\x80\x80"),
    ("truncated", b"\xea\xb0"), ("lua-name", "employed_2019"), ("lua-keyword", "end"),
    ("kpi-id", "1-1.regular_x"), ("kpi-id-space", "K 1"), ("nul-inside", b"12\x0034"),
]

# ---- dataset ---------------------------------------------------------------

DATASET_CASES = sorted(
    c for c in os.listdir(CASES)
    if os.path.isfile(os.path.join(CASES, c, "dataset", "indicators.csv"))
    and os.path.isfile(os.path.join(CASES, c, "dataset", "actuals.csv"))
    and not c.startswith(("bad_out_", "bad_usage_", "preexisting_", "cap_", "grades_",
                          "check_", "plugins_"))
)


def dataset_input(indicators, actuals, period=None):
    if isinstance(indicators, str):
        indicators = indicators.encode()
    if isinstance(actuals, str):
        actuals = actuals.encode()
    data = indicators + b"\0" + actuals
    if period is not None:
        data += b"\0" + period.encode()
    return data


dataset_seeds = []
for case in DATASET_CASES:
    dataset_seeds.append((f"e2e-{case}", dataset_input(case_file(case, "indicators.csv"),
                                                       case_file(case, "actuals.csv"),
                                                       case_period(case))))
with open(os.path.join(ROOT, "datasets", "seoul-2019", "indicators.csv"), "rb") as f:
    seoul_ind = f.read()
with open(os.path.join(ROOT, "datasets", "seoul-2019", "actuals.csv"), "rb") as f:
    seoul_act = f.read()
dataset_seeds.append(("seoul-2019", dataset_input(seoul_ind, seoul_act)))

HEAD = "id,name,department,target,formula\n"
deep = "/".join(f"d{i}" for i in range(32))
dataset_seeds += [
    ("indicators-only", HEAD + "K1,a,A,10,x\nK2,b,A/B,20,y\n"),
    ("period-2020", dataset_input(HEAD + "K1,a,A,10,x\n",
                                  "indicator,input,value,period\nK1,x,1,2019\nK1,x,2,2020\n",
                                  "2020")),
    ("period-missing", dataset_input(HEAD + "K1,a,A,10,x\n",
                                     "indicator,input,value,period\nK1,x,1,2019\n", "2030")),
    ("period-empty-cells", dataset_input(HEAD + "K1,a,A,10,x\n",
                                         "indicator,input,value,period\nK1,x,1,\nK1,y,2, \n")),
    ("period-no-column", dataset_input(HEAD + "K1,a,A,10,x\n",
                                       "indicator,input,value\nK1,x,1\n", "2019")),
    ("departments-32-levels", dataset_input(HEAD + f"K1,a,{deep},10,x\n",
                                            "indicator,input,value\nK1,x,1\n")),
    ("departments-33-levels", dataset_input(HEAD + f"K1,a,{deep}/x,10,x\n",
                                            "indicator,input,value\nK1,x,1\n")),
    ("department-1000-bytes", dataset_input(HEAD + "K1,a," + "가" * 333 + "a,10,x\n",
                                            "indicator,input,value\nK1,x,1\n")),
    ("department-1001-bytes", dataset_input(HEAD + "K1,a," + "가" * 333 + "ab,10,x\n",
                                            "indicator,input,value\nK1,x,1\n")),
    ("department-siblings", dataset_input(
        HEAD + "K1,a,a/c,1,x\nK2,a,a-b,1,x\nK3,a,a,1,x\nK4,a,가/나,1,x\nK5,a,A/b/c,1,x\n",
        "indicator,input,value\nK1,x,1\n")),
    ("duplicate-inputs", dataset_input(HEAD + "K1,a,A,10,x + y\n",
                                       "indicator,input,value\nK1,x,1\nK1,y,2\nK1,x,3\n")),
    ("bad-inputs", dataset_input(HEAD + "K1,a,A,10,x\nK2,a,A,10,x\n",
                                 "indicator,input,value\nK1,end,1\nK1,x,3,000\nK2,1x,2\n"
                                 'K2,x,"3,000"\nK2,y,nan\nK2,z,1e400\n')),
    ("unknown-indicators", dataset_input(HEAD + "K1,a,A,10,x\n", "indicator,input,value\n" +
                                         "".join(f"U{i},x,{i}\n" for i in range(105)) +
                                         "K1,x,1\n")),
    ("all-columns", dataset_input(
        "id,name,department,unit,direction,baseline,target,formula,weight,scoring,note,비고\n"
        "K1,a,A,%,decrease,-,5,x,0,,n1,메모\n"
        "K2,b,A/B,명,sideways,abc,1e400,,-1,baseline,,\n"
        "K3,c,A/B,,increase,1,2,x,1000000001,binary,,\n"
        "K4,d,A,,increase,,3,x,1e9,actual / target * 100,,\n"
        "K5,e,A,,increase,, 3 ,x,,(,,\n",
        "indicator,input,value\nK1,x,1\nK3,x,2\nK4,x,3\nK5,x,4\n")),
    ("extra-column-named-like-kpi", dataset_input(
        "id,name,department,target,formula,id2,kpi\nK1,a,A,10,kpi.kpi,x,y\n",
        "indicator,input,value\nK1,x,1\n")),
    ("crlf-bom-both", dataset_input(b"\xef\xbb\xbf" + HEAD.replace("\n", "\r\n").encode()
                                    + b"K1,a,A,10,x\r\n",
                                    b"\xef\xbb\xbfindicator,input,value\r\nK1,x,1\r\n")),
    ("cp949-actuals", dataset_input(HEAD + "K1,a,A,10,x\n",
                                    "indicator,input,value\nK1,x,1\n가,x,2\n".encode("cp949"))),
]

# ---- formula ---------------------------------------------------------------


def e2e_expressions():
    found = []
    for case in sorted(os.listdir(CASES)):
        path = os.path.join(CASES, case, "dataset", "indicators.csv")
        if not os.path.isfile(path):
            continue
        try:
            text = open(path, encoding="utf-8-sig").read()
            rows = list(csv.DictReader(io.StringIO(text)))
        except (UnicodeDecodeError, csv.Error):
            continue
        for row in rows:
            f = (row.get("formula") or "").strip()
            s = (row.get("scoring") or "").strip()
            if f:
                found.append((f, s))
    unique = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def formula_input(formula, scoring=None, plugin=None):
    data = formula.encode() if isinstance(formula, str) else formula
    if scoring is not None or plugin is not None:
        data += b"\0" + (scoring or "").encode()
    if plugin is not None:
        data += b"\0" + plugin.encode()
    return data


formula_seeds = []
for i, (f, s) in enumerate(e2e_expressions()[:40]):
    formula_seeds.append((f"e2e-{i:02d}", formula_input(f, s if s else None)))
formula_seeds += [
    # ordinary, and the standard plugins
    ("sum-inputs", "a + b"),
    ("percent", "a / b * 100"),
    ("plugin-ratio", "ratio(a, b)"),
    ("plugin-progress", "progress(a, b)"),
    ("plugin-growth", "growth(b, a)"),
    ("plugin-percent-of", "percent_of(a, 110)"),
    ("plugin-sum", "sum(a, b, x)"),
    ("plugin-errors", "ratio('a', nil)"),
    ("input-default", "input('a', 0) + input('zzz', 1)"),
    ("kpi-fields", "kpi.target * 2 + #kpi.name + #kpi.department + (kpi.baseline or 0)"),
    ("kpi-extra", "tonumber(kpi.note) or #kpi.note"),
    ("statements", "local r = a / b return r * 100"),
    ("if-else", "if a > b then return 100 else return a / b * 100 end"),
    ("trailing-comment", "a + b -- doubled"),
    ("math", "math.floor(a * 10) / 10 + math.max(a, b) - math.abs(-b) + math.fmod(7, 3)"),
    ("string-lib", "#string.format('%5.2f|%d|%s|%q', a, 3, 'x', 'y') + #('abc'):upper()"),
    ("utf8-lib", "utf8.len('가나다') + #utf8.char(0xAC00, 0x10FFFF)"),
    ("table-lib", "(function() local t = {3, 1, 2} table.sort(t) return t[1] + #table.concat(t, ',') end)()"),
    ("integer-ops", "7 // 2 + 7 % 3 + (1 << 4) + (0xFF & 0x0F) + math.maxinteger // math.mininteger"),
    ("missing-input", "a + nope"),
    # scoring expressions and rules (second part)
    ("scoring-expression", formula_input("a", "actual / target * 100")),
    ("scoring-linear", formula_input("a", "linear")),
    ("scoring-baseline", formula_input("a", "baseline")),
    ("scoring-binary", formula_input("a", "binary")),
    ("scoring-uses-baseline", formula_input("a", "(actual - baseline) / (target - baseline) * 100")),
    ("scoring-nil", formula_input("a", "nil")),
    ("scoring-unknown-name", formula_input("a", "actual + nope")),
    ("scoring-error", formula_input("a", "error('scoring failed')")),
    ("scoring-loop", formula_input("a", "(function() while true do end end)()")),
    ("scoring-syntax", formula_input("a", "actual +")),
    # dataset plugins (third part)
    ("plugin-fz", formula_input("fz(a, b)", "", "return function(x, y) return x * y end")),
    ("plugin-fz-counter", formula_input("fz() + fz()", "",
                                        "local n = 0 return function() n = n + 1 return n end")),
    ("plugin-fz-calls-ratio", formula_input("fz(a, b)", "",
                                            "return function(x, y) return ratio(x, y) end")),
    ("plugin-not-function", formula_input("fz()", "", "return 1")),
    ("plugin-syntax-error", formula_input("fz()", "", "return function(")),
    ("plugin-load-loop", formula_input("fz()", "", "while true do end")),
    ("plugin-sees-no-inputs", formula_input("fz()", "", "return function() return a end")),
    # limits and the sandbox
    ("loop", "(function() while true do end end)()"),
    ("loop-statement", "while true do end"),
    ("pcall-loop", "(function() local n = 0 while true do pcall(function() while true do end end) n = n + 1 end end)()"),
    ("pcall-limit-swallow", "(function() for i = 1, 100 do pcall(string.rep, 'x', 1e12) end return 1 end)()"),
    ("rep-huge", "#string.rep('x', 1e9)"),
    ("rep-at-limit", "#('x'):rep(7 * 1024 * 1024)"),
    ("rep-2-31", "#('x'):rep(2^31)"),
    ("rep-empty-huge", "#string.rep('', 1e15) + #string.rep('', 1e15, '')"),
    ("rep-sep", "#string.rep('ab', 1e6, ',')"),
    ("table-move-huge", "#table.move({}, 1, 1e12, 2)"),
    ("table-grow", "(function() local t = {} for i = 1, 1e7 do t[i] = i end return #t end)()"),
    ("string-grow", "(function() local s = 'x' while true do s = s .. s end end)()"),
    ("concat-big", "#table.concat({('x'):rep(1e6), ('y'):rep(1e6)}, ('z'):rep(1e6))"),
    ("recursion", "(function() local function f(n) return f(n + 1) + 1 end return f(1) end)()"),
    ("gc-metamethod", "setmetatable({}, {__gc = function() end}) and 1"),
    ("close-metamethod", "local x <close> = setmetatable({}, {__close = function() end}) return 1"),
    ("forbidden-names", "os.exit() or io.open('/etc/passwd') or require('os') or load('return 1')()"),
    ("debug-collectgarbage", "collectgarbage('count') + debug.getinfo(1).currentline"),
    ("coroutine", "coroutine.wrap(function() coroutine.yield(1) end)()"),
    ("library-write", "math.pi = 1 return 1"),
    ("rawset-library", "rawset(math, 'pi', 1) return math.pi"),
    ("string-metatable", "getmetatable('').__index.rep = nil return 1"),
    ("string-metatable-2", "(function() local mt = getmetatable('') mt.__index = {} return #('x'):rep(2) end)()"),
    ("pairs-proxy", "(function() local n = 0 for k, v in pairs(math) do n = n + 1 end return n end)()"),
    ("next-proxy", "next(math) and 1"),
    ("format-p", "string.format('%p', {})"),
    ("tostring-table", "#tostring({}) + #tostring(print or 1) + #string.format('%s', {})"),
    ("string-dump", "string.dump(function() end)"),
    ("env-globals", "_ENV and _G and 1"),
    ("error-table", "error({})"),
    ("error-tostring-mt", "error(setmetatable({}, {__tostring = function() return 'x' end}))"),
    ("error-nil", "error()"),
    ("error-long-utf8", "error(('가'):rep(300))"),
    ("error-bad-bytes", "error(('\\xff\\xea\\xb0'):rep(100))"),
    ("error-surrogate", "error(utf8.char(0xD800) .. utf8.char(0x7FFFFFFF))"),
    ("error-cr-lf-quotes", "error('a\\r\\nb,\"c\"\\0d')"),
    ("returns-nan", "0/0"),
    ("returns-inf", "1/0"),
    ("returns-ninf", "-1/0"),
    ("returns-table", "{}"),
    ("returns-nil", "nil"),
    ("returns-string", "'abc'"),
    ("returns-long-string", "('가'):rep(50)"),
    ("returns-bool", "true"),
    ("returns-many", "a, b, 1, 2"),
    ("returns-integer-min", "math.mininteger"),
    ("returns-huge", "1e308 * 10"),
    ("returns-subnormal", "5e-324"),
    ("deep-parens-150", "(" * 150 + "a" + ")" * 150),
    ("deep-parens-300", "(" * 300 + "a" + ")" * 300),
    ("deep-tables", "#" + "{" * 250 + "}" * 250),
    ("long-concat-chain", " .. ".join(["'x'"] * 300)),
    ("syntax-error", "a +"),
    ("syntax-end", "end"),
    ("syntax-unterminated-string", "'abc"),
    ("syntax-long-bracket", "[[ never closed"),
    ("syntax-comment", "--[[ unterminated comment"),
    ("syntax-goto", "goto nowhere"),
    ("syntax-labels", "::a:: ::a::"),
    ("empty", ""),
    ("spaces", "   \t  "),
    ("only-comment", "-- nothing"),
    ("bytecode-header", "\x1bLua"),
    ("newlines", "a\n+\nb\n"),
    ("quotes-and-commas", "#'a,\"b\",c' + a"),
    ("invalid-utf8", b"a + \xff\xfe"),
    ("pattern-simple", "#(('a'):rep(100):gsub('a', 'bb'))"),
    ("pattern-balance", "#(('('):rep(100) .. (')'):rep(100)):match('%b()')"),
    ("sort-bad-comparator", "(function() local t = {} for i = 1, 100 do t[i] = i % 7 end table.sort(t, function(x, y) return true end) return 1 end)()"),
]

write_corpus("csv", csv_seeds)
write_corpus("numbers", numbers_seeds)
write_corpus("dataset", dataset_seeds)
write_corpus("formula", formula_seeds)
