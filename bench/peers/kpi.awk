# kpi.awk - the benchmark's gawk peer: kpieval's kpis.csv and departments.csv
# for a `kpieval generate` dataset.
#
# usage: LC_ALL=C gawk -v out=OUT -f kpi.awk DIR/actuals.csv DIR/indicators.csv
#
# actuals.csv first (into one array keyed by indicator SUBSEP input), then
# indicators.csv streamed: each distinct formula text is matched once against
# the generator's shapes, each KPI is evaluated, scored and written at once,
# the departments are totalled on the way and written in tree order at the
# end. LC_ALL=C: bytes, not characters, and '.' as the decimal point. Other
# formula shapes and the `baseline` and expression scoring rules give status
# error; the inputs and message columns are left empty. Lines holding a quote
# are split with patsplit; a quoted line break is not supported.

BEGIN {
    CAP = 120
    FS = ","
    QFIELD = "([^,]*)|(\"([^\"]|\"\")*\")"
    NAME = "[A-Za-z_][A-Za-z0-9_]*"
    SP = "[ \t]*"
    if (out == "") {
        print "usage: gawk -v out=OUT -f kpi.awk DIR/actuals.csv DIR/indicators.csv" > "/dev/stderr"
        exit 2
    }
    kpis = out "/kpis.csv"
    print "id,name,department,unit,direction,baseline,target,formula,inputs,actual," \
          "achievement,achievement_capped,weight,status,message" > kpis
}

# Splits the current record into f[1..n], unquoting quoted fields.
function fields(f,    n, i, s) {
    if (index($0, "\"") == 0)
        return split($0, f, ",")
    n = patsplit($0, f, QFIELD)
    for (i = 1; i <= n; i++) {
        s = f[i]
        if (substr(s, 1, 1) == "\"") {
            s = substr(s, 2, length(s) - 2)
            gsub(/""/, "\"", s)
            f[i] = s
        }
    }
    return n
}

function quote(s) {
    if (s ~ /[,"\r\n]/) {
        gsub(/"/, "\"\"", s)
        return "\"" s "\""
    }
    return s
}

function number(x) {
    if (x == 0)
        return "0"
    return sprintf("%.15g", x)
}

# Two decimals, half away from zero, on the 15-significant-digit value: the
# digits of %.14e rounded as a whole number, so 1.005 gives 1.01.
function rate(x,    s, keep, digits, kept, whole) {
    s = sprintf("%.14e", x < 0 ? -x : x)
    keep = substr(s, 18) + 3
    if (keep <= 0) {
        kept = (keep == 0 && substr(s, 1, 1) >= "5") ? 1 : 0
    } else {
        digits = substr(s, 1, 1) substr(s, 3, 14)
        if (keep >= 15) {
            kept = digits * 10 ^ (keep - 15)
        } else {
            kept = substr(digits, 1, keep) + 0
            if (substr(digits, keep + 1, 1) >= "5")
                kept++
        }
    }
    whole = int(kept / 100)
    return sprintf("%s%d.%02d", (x < 0 && kept > 0) ? "-" : "", whole, kept - whole * 100)
}

function finite(x) {
    return x == x && x < 1e308 * 10 && x > -1e308 * 10
}

# Formula shape of text into kind[text] and names[text, 1..3].
function parse_formula(text,    t, m, fn) {
    t = text
    if (t ~ ("^" SP NAME SP "$")) {
        gsub(/[ \t]/, "", t)
        kind[text] = "input"; names[text, 1] = t
    } else if (match(t, "^" SP "(" NAME ")" SP "\\(" SP "(" NAME ")" SP "," SP "(" NAME ")" SP "(," SP "(" NAME ")" SP ")?\\)" SP "$", m)) {
        fn = m[1]
        if (fn == "sum" || ((fn == "ratio" || fn == "progress" || fn == "growth") && m[5] == "")) {
            kind[text] = fn; names[text, 1] = m[2]; names[text, 2] = m[3]; names[text, 3] = m[5]
        } else {
            kind[text] = "other"
        }
    } else if (match(t, "^" SP "(" NAME ")" SP "/" SP "(" NAME ")" SP "\\*" SP "100" SP "$", m)) {
        kind[text] = "div100"; names[text, 1] = m[1]; names[text, 2] = m[2]
    } else if (match(t, "^" SP "\\(" SP "(" NAME ")" SP "\\+" SP "(" NAME ")" SP "\\)" SP "/" SP "(" NAME ")" SP "\\*" SP "100" SP "$", m)) {
        kind[text] = "share3"; names[text, 1] = m[1]; names[text, 2] = m[2]; names[text, 3] = m[3]
    } else if (match(t, "^" SP "(" NAME ")" SP "-" SP "(" NAME ")" SP "$", m)) {
        kind[text] = "diff"; names[text, 1] = m[1]; names[text, 2] = m[2]
    } else {
        kind[text] = "other"
    }
    qformula[text] = quote(text)
}

# Sets ACTUAL; returns the status.
function evaluate(text, id,    k, a, b, c, n3) {
    k = kind[text]
    if (k == "other")
        return "error"
    if (!((id, names[text, 1]) in value))
        return "missing"
    a = value[id, names[text, 1]]
    if (k == "input") {
        ACTUAL = a
        return "ok"
    }
    if (!((id, names[text, 2]) in value))
        return "missing"
    b = value[id, names[text, 2]]
    n3 = names[text, 3]
    if (n3 != "") {
        if (!((id, n3) in value))
            return "missing"
        c = value[id, n3]
    }
    # awk stops on a division by zero where Lua gives inf or nan: both error.
    if (k == "ratio" || k == "div100") {
        if (b == 0)
            return "error"
        ACTUAL = a / b * 100
    } else if (k == "sum") {
        ACTUAL = a + b
        if (n3 != "")
            ACTUAL += c
    } else if (k == "share3") {
        if (c == 0)
            return "error"
        ACTUAL = (a + b) / c * 100
    } else if (k == "progress") {
        if (b <= 0)
            return "error"
        ACTUAL = a / b * 100
    } else if (k == "growth") {
        if (b == 0)
            return "error"
        ACTUAL = (a - b) / (b < 0 ? -b : b) * 100
    } else {
        ACTUAL = a - b
    }
    return finite(ACTUAL) ? "ok" : "error"
}

# Sets RATE; returns the status.
function score(scoring, decrease, a, t,    met, x) {
    met = decrease ? a <= t : a >= t
    if (scoring == "" || scoring == "linear") {
        if (t < 0)
            return "error"
        if (t == 0)
            x = met ? 100 : 0
        else if (!decrease)
            x = a / t * 100
        else if (scoring == "linear")
            x = (2 - a / t) * 100
        else if (a < 0)
            return "error"
        else if (a == 0)
            x = CAP
        else
            x = t / a * 100
    } else if (scoring == "binary") {
        x = met ? 100 : 0
    } else {
        return "error"
    }
    if (!finite(x))
        return "error"
    RATE = x < 0 ? 0 : x
    return "ok"
}

# ---- actuals.csv ----------------------------------------------------------

FNR == 1 && ARGIND == 1 {
    n = fields(f)
    for (i = 1; i <= n; i++)
        acol[f[i]] = i
    ci = acol["indicator"]; cn = acol["input"]; cv = acol["value"]
    next
}

ARGIND == 1 {
    if ($0 == "")
        next
    if (index($0, "\"") == 0) {
        value[$ci, $cn] = $cv + 0
    } else {
        fields(f)
        value[f[ci], f[cn]] = f[cv] + 0
    }
    next
}

# ---- indicators.csv, streamed ---------------------------------------------

FNR == 1 {
    n = fields(f)
    for (i = 1; i <= n; i++)
        icol[f[i]] = i
    c_id = icol["id"]; c_name = icol["name"]; c_dep = icol["department"]
    c_unit = icol["unit"]; c_dir = icol["direction"]; c_base = icol["baseline"]
    c_target = icol["target"]; c_formula = icol["formula"]; c_weight = icol["weight"]
    c_scoring = icol["scoring"]
    next
}

$0 != "" {
    fields(f)
    id = f[c_id]; dep = f[c_dep]; text = f[c_formula]
    direction = c_dir ? f[c_dir] : ""
    scoring = c_scoring ? f[c_scoring] : ""
    wtext = c_weight ? f[c_weight] : ""
    weight = wtext == "" ? 1 : wtext + 0
    target = f[c_target] + 0
    decrease = direction == "decrease"
    if (!(text in kind))
        parse_formula(text)
    ACTUAL = ""
    if (direction != "" && direction != "increase" && !decrease || weight < 0 || weight > 1e9) {
        status = "invalid"
    } else {
        status = evaluate(text, id)
        has_actual = status == "ok"
        if (status == "ok")
            status = score(scoring, decrease, ACTUAL, target)
    }
    if (status == "ok") {
        capped = RATE < CAP ? RATE : CAP
        rates = rate(RATE) "," rate(capped)
    } else {
        rates = ","
    }
    print id "," quote(f[c_name]) "," quote(dep) "," (c_unit ? f[c_unit] : "") "," \
          (decrease ? "decrease" : "increase") "," (c_base ? f[c_base] : "") "," \
          f[c_target] "," qformula[text] ",," (has_actual ? number(ACTUAL) : "") "," \
          rates "," (wtext == "" ? "1" : wtext) "," status "," > kpis
    has_actual = 0

    if (dep != last_dep) {
        last_dep = dep
        chain_n = split(dep, parts, "/")
        path = ""
        for (k = 1; k <= chain_n; k++) {
            path = k == 1 ? parts[1] : path "\001" parts[k]
            chain[k] = path
        }
    }
    for (k = 1; k <= chain_n; k++) {
        path = chain[k]
        dkpis[path]++
        dcount[path, status]++
        if (status == "ok") {
            dweight[path] += weight
            dweighted[path] += weight * capped
        }
    }
}

# ---- departments.csv, in tree order ---------------------------------------

END {
    close(kpis)
    deps = out "/departments.csv"
    print "department,kpis,ok,missing,error,invalid,achievement,grade" > deps
    # Keys hold \001 for '/': byte order is then tree order.
    PROCINFO["sorted_in"] = "@ind_str_asc"
    for (path in dkpis) {
        shown = path
        gsub(/\001/, "/", shown)
        achievement = grade = ""
        if (dweight[path] > 0) {
            a = dweighted[path] / dweight[path]
            achievement = rate(a)
            grade = a >= 100 ? "S" : a >= 90 ? "A" : a >= 80 ? "B" : a >= 70 ? "C" : "D"
        }
        print quote(shown) "," dkpis[path] "," (dcount[path, "ok"] + 0) "," \
              (dcount[path, "missing"] + 0) "," (dcount[path, "error"] + 0) "," \
              (dcount[path, "invalid"] + 0) "," achievement "," grade > deps
    }
    close(deps)
}
