#!/usr/bin/env bash
# --shard with composite KPIs: a KPI that reads a KPI under another
# top-level department keeps both in one shard, the shard of the group's
# first top-level name in byte order; merge gives the whole run's report.
#   tests/batch/composite_shards.sh KPIEVAL
bin=$1
. "$(dirname "$0")/lib.sh"
data=$(cd "$(dirname "$0")/../e2e/cases/composite_levels/dataset" && pwd)

# The shard of a top-level name (docs/formats.md): FNV-1a 64 of its bytes,
# modulo N, plus one. Worked out here in shell arithmetic, not asked of
# kpieval: bash wraps like uint64, and the unsigned remainder is taken a
# bit at a time.
shard_of() {
    local name=$1 n=$2 h=-3750763034362895579 i c # 0xcbf29ce484222325
    for ((i = 0; i < ${#name}; i++)); do
        printf -v c '%d' "'${name:i:1}"
        h=$(((h ^ c) * 1099511628211))
    done
    local r=$(((((h >> 1) & 0x7FFFFFFFFFFFFFFF) % n * 2 + (h & 1)) % n))
    echo $((r + 1))
}

# J2 (under Jobs) reads T1 (under Training): find a count that puts the
# two names in different shards on their own.
n=2
while [ "$(shard_of Jobs $n)" = "$(shard_of Training $n)" ]; do n=$((n + 1)); done
jobs_shard=$(shard_of Jobs $n)
ok "Jobs hashes to shard $jobs_shard of $n, Training to $(shard_of Training $n)"

run run "$data" --out "$tmp/whole" --quiet
[ "$(rc)" = 1 ] || fail "whole run: exit $(rc)"
parts=()
for i in $(seq 1 "$n"); do
    run run "$data" --out "$tmp/p$i" --shard "$i/$n" --quiet
    case $(rc) in 0|1) ;; *) fail "shard $i/$n: exit $(rc)"; cat "$tmp/last.stderr";; esac
    parts+=("$tmp/p$i")
    tops=$(cut -d, -f1 "$tmp/p$i/departments.csv" | grep -v / | tail -n +2 | tr '\n' ' ')
    if [ "$i" = "$jobs_shard" ]; then
        [ "$tops" = "Jobs Training " ] && ok "shard $i holds Jobs and Training, tied by J2" ||
            fail "shard $i holds: $tops"
        grep -q '^J2,.*kpi_value(.T1.)=90,' "$tmp/p$i/kpis.csv" &&
            ok "J2 read T1 in its shard" || fail "J2 in shard $i: $(grep ^J2, "$tmp/p$i/kpis.csv")"
    else
        [ -z "$tops" ] && ok "shard $i holds no department" || fail "shard $i holds: $tops"
    fi
done
run merge "$tmp/merged" "${parts[@]}"
[ "$(rc)" = 1 ] || { fail "merge: exit $(rc)"; cat "$tmp/last.stderr"; }
same_report "$tmp/whole" "$tmp/merged" && ok "merged report identical to the whole run" ||
    { fail "merged report differs"; head -20 "$tmp/diff.out"; }
grep -q '"id": "J3", .*"depends_on": \["J2", "J1"\]' "$tmp/merged/report.json" &&
    ok "report.json: J3 depends_on J2, J1" || fail "report.json: no depends_on for J3"

# Without the tie each name goes to its own shard.
mkdir "$tmp/apart"
sed 's/kpi_value(""T1"")/90/' "$data/indicators.csv" >"$tmp/apart/indicators.csv"
cp "$data/actuals.csv" "$tmp/apart/"
run run "$tmp/apart" --out "$tmp/apart-p" --shard "$(shard_of Training $n)/$n" --quiet
[ "$(cut -d, -f1 "$tmp/apart-p/departments.csv" | grep -v / | tail -n +2 | tr '\n' ' ')" = "Training " ] &&
    ok "without J2 reading T1, Training is in shard $(shard_of Training $n) alone" ||
    fail "apart: $(cat "$tmp/apart-p/departments.csv")"
finish
