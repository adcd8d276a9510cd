#!/usr/bin/env bash
# kpieval-nightly.sh - evaluate one dataset into a dated report folder,
# unattended (cron or a systemd timer; see README.md beside this file).
#
#   REPORTS/YYYY-MM-DD/   tonight's report (kpis.csv, departments.csv,
#                         report.json, departments/), replaced whole on a rerun
#   REPORTS/latest        symlink to the newest dated report, swapped atomically
#
# Keeps the KEEP newest dated reports and deletes older ones. A folder is
# only ever deleted when its name is exactly a date (YYYY-MM-DD), it is a
# real folder (not a symlink) and it holds kpieval's marker (.kpieval-report)
# or a report.json: anything else in
# REPORTS is left alone. Nothing is asked; everything is logged on stderr
# (the journal under systemd).
#
# Configuration, by environment variable:
#   KPIEVAL          the kpieval binary                 (default: kpieval on PATH)
#   DATASET          the dataset folder                 (required)
#   REPORTS          where the dated reports go         (required)
#   KEEP             dated reports to keep, >= 1        (default 30)
#   MAX_ERRORS       KPIs in status error tolerated before kpieval gives
#                    up with exit 2, so that a night in which many fail
#                    (say, a plugin that fails to load) does not replace
#                    a good report                      (default 10)
#   KPIEVAL_OPTIONS  the operational options, split on spaces
#                    (default "--quiet --log json --max-errors $MAX_ERRORS --wait";
#                    set it to "--quiet" for a kpieval without those options)
#   KPIEVAL_ARGS     evaluation options, split on spaces, e.g. "--period 2019 --cap 100"
#                    (default none)
#   NIGHTLY_DATE     the folder's date, YYYY-MM-DD      (default: today, local time)
#
# Exit status: kpieval's. 0 every KPI ok, 1 some KPIs not ok (the report is
# written and `latest` points to it): both are a normal night. 2 (or any
# other status) needs a person: a bad configuration, an input error, more
# than MAX_ERRORS errors, or a report folder that could not be rotated;
# `latest` and the older reports are then left as they were.
set -Eeuo pipefail
LC_ALL=C # the glob below sorts dated names byte by byte

me=kpieval-nightly
log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { log "error: $*"; exit 2; }
# Anything failing unexpectedly is an alert (2), never a quiet 1.
trap 'log "error: unexpected failure at line $LINENO"; exit 2' ERR

KPIEVAL=${KPIEVAL:-kpieval}
DATASET=${DATASET:-}
REPORTS=${REPORTS:-}
KEEP=${KEEP:-30}
MAX_ERRORS=${MAX_ERRORS:-10}
KPIEVAL_OPTIONS=${KPIEVAL_OPTIONS-"--quiet --log json --max-errors $MAX_ERRORS --wait"}
KPIEVAL_ARGS=${KPIEVAL_ARGS:-}
date=${NIGHTLY_DATE:-$(date +%Y-%m-%d)}

date_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}$'

[ -n "$DATASET" ] || die "DATASET is not set (the dataset folder to evaluate)"
[ -n "$REPORTS" ] || die "REPORTS is not set (the folder of dated reports)"
[[ $KEEP =~ ^[0-9]{1,9}$ ]] || die "KEEP '$KEEP': expected a whole number >= 1"
KEEP=$((10#$KEEP)) # "08" is not octal here
[ "$KEEP" -ge 1 ] || die "KEEP '$KEEP': expected a whole number >= 1"
[[ $date =~ $date_re ]] || die "NIGHTLY_DATE '$date': expected YYYY-MM-DD"
[[ $MAX_ERRORS =~ ^[0-9]{1,9}$ ]] || die "MAX_ERRORS '$MAX_ERRORS': expected a whole number"
command -v -- "$KPIEVAL" >/dev/null || die "kpieval binary '$KPIEVAL' not found"
[ -d "$DATASET" ] || die "dataset '$DATASET' is not a folder"
mkdir -p -- "$REPORTS" || die "cannot create '$REPORTS'"

read -r -a options <<<"$KPIEVAL_OPTIONS"
read -r -a args <<<"$KPIEVAL_ARGS"

out=$REPORTS/$date
log "evaluating '$DATASET' into '$out'"
rc=0
# kpieval's summary (when not --quiet) goes to the log too: stdout stays empty.
"$KPIEVAL" run "$DATASET" --out "$out" ${options[@]+"${options[@]}"} ${args[@]+"${args[@]}"} >&2 || rc=$?
# Staging folders of killed runs (DATE.kpieval-tmp-XXXXXX, DATE.kpieval-old-XXXXXX):
# kpieval removes them when it next writes the same folder, which a dated folder
# never is. They are not reports, so not ours to delete: say so instead.
for path in "$REPORTS"/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].kpieval-{tmp,old}-??????; do
    if [ -e "$path" ]; then
        log "warning: '$path' was left by a killed kpieval run; remove it when no run writes '${path%.kpieval-*}'"
    fi
done
case $rc in
0) log "every KPI ok" ;;
1) log "report written; some KPIs are not ok (see $out/kpis.csv)" ;;
*)
    log "error: kpieval exited $rc; '$REPORTS/latest' and older reports left as they were"
    exit "$rc"
    ;;
esac
[ -f "$out/.kpieval-report" ] || [ -f "$out/report.json" ] ||
    die "kpieval exited $rc but '$out' holds no report"

# A dated kpieval report: exact date name, a real folder, kpieval's marker
# (or, from kpieval before 0.2, report.json) inside.
is_report() {
    [[ $1 =~ $date_re ]] && [ -d "$REPORTS/$1" ] && [ ! -L "$REPORTS/$1" ] &&
        { [ -f "$REPORTS/$1/.kpieval-report" ] || [ -f "$REPORTS/$1/report.json" ]; }
}

reports=()
for path in "$REPORTS"/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]; do
    name=${path##*/}
    if is_report "$name"; then reports+=("$name"); fi
done
# The glob is sorted, and for YYYY-MM-DD names that is date order.
[ "${#reports[@]}" -gt 0 ] || die "'$out' is not a dated report folder (a symlink?)"
newest=${reports[${#reports[@]} - 1]}

# `latest` is swapped with one rename, so a reader always finds a complete
# report through it. A relative target keeps REPORTS movable.
tmp_link=$REPORTS/.latest.tmp-$$
trap 'rm -f -- "$tmp_link"' EXIT
ln -s -- "$newest" "$tmp_link" || die "cannot create '$tmp_link'"
mv -T -- "$tmp_link" "$REPORTS/latest" ||
    die "cannot replace '$REPORTS/latest' (it must be a symlink or absent)"
if [ "$newest" = "$date" ]; then
    log "latest -> $newest"
else
    log "'$date' is older than '$newest': latest stays on '$newest'"
fi

# Prune: all but the KEEP newest, never tonight's own (a backfill of an
# old date would otherwise be deleted the moment it was written).
failed=0
n=${#reports[@]}
for ((i = 0; i < n - KEEP; i++)); do
    name=${reports[i]}
    [ "$name" != "$date" ] || continue
    if rm -rf -- "${REPORTS:?}/$name"; then
        log "removed old report '$name'"
    else
        log "error: cannot remove old report '$REPORTS/$name'"
        failed=1
    fi
done
[ "$failed" = 0 ] || exit 2
exit "$rc"
