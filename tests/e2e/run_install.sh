#!/usr/bin/env bash
# The install: `cmake --install` (and `make install`, PREFIX and DESTDIR)
# puts the binary, the man page and the standard formulas in place; the
# installed binary, run from an unrelated folder, finds its formulas from
# its own path, also after the whole prefix is moved, and reports what the
# build tree's binary reports, byte for byte. Without its formulas it stops
# with exit 2, writes nothing, and names every place it looked.
#   tests/e2e/run_install.sh BUILD_DIR SOURCE_DIR KPIEVAL
build=$1 src=$2 bin=$3
. "$(dirname "$0")/../batch/lib.sh"
unset KPIEVAL_STDLIB
seoul=$src/datasets/seoul-2019
# krun KPIEVAL ARGS...: from /, so nothing is found relative to the caller.
krun() {
    local exe=$1; shift
    (cd / && timeout -k 2 60 ${KPIEVAL_TEST_WRAPPER:-} "$exe" "$@") \
        >"$tmp/last.stdout" 2>"$tmp/last.stderr" </dev/null
    echo $? >"$tmp/last.rc"
}
has() { grep -qF -- "$1" "$tmp/last.stderr"; }
# plugin_dir REPORT: the first plugin folder report.json records (the standard library).
plugin_dir() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parameters"]["plugin_dirs"][0])' "$1"; }

# --- what is installed ----------------------------------------------------
if cmake --install "$build" --prefix "$tmp/p" >"$tmp/install.log" 2>&1; then
    ok "cmake --install --prefix"
else
    fail "cmake --install failed: $(cat "$tmp/install.log")"
    finish
fi
[ -x "$tmp/p/bin/kpieval" ] && ok "binary in bin/" || fail "no bin/kpieval"
cmp -s "$src/docs/kpieval.1" "$tmp/p/share/man/man1/kpieval.1" &&
    ok "man page in share/man/man1/" || fail "share/man/man1/kpieval.1 missing or different"
if command -v man >/dev/null; then
    MANWIDTH=80 MANPAGER=cat man -l "$tmp/p/share/man/man1/kpieval.1" 2>/dev/null |
        grep -q 'KPIEVAL_STDLIB' && ok "man -l reads the installed page" ||
        fail "man -l cannot read the installed page"
fi
missing=""
for f in "$src"/formulas/*.lua "$src/formulas/README.md"; do
    cmp -s "$f" "$tmp/p/share/kpieval/formulas/${f##*/}" || missing="$missing ${f##*/}"
done
[ -z "$missing" ] && ok "standard formulas in share/kpieval/formulas/" ||
    fail "not installed or different:$missing"
[ ! -e "$tmp/p/bin/kpieval-stdlib.path" ] && ok "the build tree's marker is not installed" ||
    fail "bin/kpieval-stdlib.path installed: the install would read the source tree"
grep -qF "$src/formulas" "$tmp/p/bin/kpieval" &&
    fail "the installed binary holds the source path $src/formulas" ||
    ok "no source path compiled into the binary"

# --- the installed binary, from /, equals the build tree's ---------------
krun "$bin" run "$seoul" --out "$tmp/from-build" --quiet
[ "$(rc)" = 0 ] || fail "build-tree run: exit $(rc): $(cat "$tmp/last.stderr")"
[ "$(plugin_dir "$tmp/from-build/report.json")" = "$src/formulas" ] &&
    ok "build-tree binary uses the sources' formulas/" ||
    fail "build-tree binary used $(plugin_dir "$tmp/from-build/report.json")"

krun "$tmp/p/bin/kpieval" run "$seoul" --out "$tmp/x" --quiet
if [ "$(rc)" = 0 ] && cmp -s "$tmp/from-build/kpis.csv" "$tmp/x/kpis.csv"; then
    ok "installed binary from /: exit 0, kpis.csv as the build tree's"
else
    fail "installed binary: exit $(rc), kpis.csv differs: $(head -c 600 "$tmp/last.stderr")"
fi
[ "$(plugin_dir "$tmp/x/report.json")" = "$tmp/p/share/kpieval/formulas" ] &&
    ok "installed binary uses the installed formulas" ||
    fail "installed binary used $(plugin_dir "$tmp/x/report.json")"

# --- relocatable: the prefix moved as a whole -----------------------------
cp -a "$tmp/p" "$tmp/moved" && rm -rf "$tmp/p"
krun "$tmp/moved/bin/kpieval" run "$seoul" --out "$tmp/y" --quiet
if [ "$(rc)" = 0 ] && cmp -s "$tmp/from-build/kpis.csv" "$tmp/y/kpis.csv" &&
    [ "$(plugin_dir "$tmp/y/report.json")" = "$tmp/moved/share/kpieval/formulas" ]; then
    ok "moved prefix: exit 0, same kpis.csv, its own formulas"
else
    fail "moved prefix: exit $(rc), $(plugin_dir "$tmp/y/report.json" 2>&1): $(head -c 600 "$tmp/last.stderr")"
fi

# --- no formulas: exit 2, nothing written, every place named --------------
rm -rf "$tmp/moved/share/kpieval/formulas"
for cmd in run check; do
    before=$(cd "$tmp" && find . | sort)
    out=()
    [ $cmd = run ] && out=(--out "$tmp/z/out")
    krun "$tmp/moved/bin/kpieval" $cmd "$seoul" "${out[@]}"
    bad=0
    [ "$(rc)" = 2 ] || { fail "$cmd without formulas: exit $(rc), expected 2"; bad=1; }
    [ "$(cd "$tmp" && find . | sort)" = "$before" ] ||
        { fail "$cmd without formulas wrote: $(cd "$tmp" && find . | sort | comm -13 <(echo "$before") -)"; bad=1; }
    [ ! -s "$tmp/last.stdout" ] || { fail "$cmd without formulas printed: $(head -c 300 "$tmp/last.stdout")"; bad=1; }
    for want in "kpieval: error: standard formulas not found; looked in" \
        "'$tmp/moved/share/kpieval/formulas' (installed, relative to the executable): No such file or directory" \
        "'$tmp/moved/bin/kpieval-stdlib.path' (the build tree's marker" \
        "reinstall kpieval, or set KPIEVAL_STDLIB to the folder"; do
        has "$want" || { fail "$cmd without formulas: stderr lacks \"$want\": $(cat "$tmp/last.stderr")"; bad=1; }
    done
    [ $bad = 1 ] || ok "$cmd without formulas: exit 2, nothing written, the places looked named"
done
krun "$tmp/moved/bin/kpieval" version
[ "$(rc)" = 0 ] && ok "version needs no formulas" || fail "version without formulas: exit $(rc)"

# The fix the message gives works.
(export KPIEVAL_STDLIB=$src/formulas; krun "$tmp/moved/bin/kpieval" run "$seoul" --out "$tmp/w" --quiet)
[ "$(rc)" = 0 ] && cmp -s "$tmp/from-build/kpis.csv" "$tmp/w/kpis.csv" &&
    ok "KPIEVAL_STDLIB rescues a broken install" || fail "KPIEVAL_STDLIB set: exit $(rc)"

# An explicit KPIEVAL_STDLIB that is wrong is exit 2, with no fallback to
# the formulas the binary would otherwise find.
(export KPIEVAL_STDLIB=$tmp/nowhere; krun "$bin" run "$seoul" --out "$tmp/v")
if [ "$(rc)" = 2 ] && [ ! -e "$tmp/v" ] && [ ! -e "$tmp/v.lock" ] &&
    has "looked in '$tmp/nowhere' (KPIEVAL_STDLIB): No such file or directory; set KPIEVAL_STDLIB"; then
    ok "a wrong KPIEVAL_STDLIB: exit 2, nothing written, no fallback"
else
    fail "a wrong KPIEVAL_STDLIB: exit $(rc): $(cat "$tmp/last.stderr")"
fi

# --- make install: PREFIX and DESTDIR -------------------------------------
if make -s -C "$src" install BUILD="$build" PREFIX=/opt/kpieval DESTDIR="$tmp/stage" \
    >"$tmp/make.log" 2>&1; then
    staged=$tmp/stage/opt/kpieval
    [ -x "$staged/bin/kpieval" ] && [ -f "$staged/share/man/man1/kpieval.1" ] &&
        [ -f "$staged/share/kpieval/formulas/ratio.lua" ] &&
        ok "make install PREFIX=... DESTDIR=..." || fail "make install: files not under DESTDIR/PREFIX"
    krun "$staged/bin/kpieval" run "$seoul" --out "$tmp/u" --quiet
    [ "$(rc)" = 0 ] && cmp -s "$tmp/from-build/kpis.csv" "$tmp/u/kpis.csv" &&
        ok "the staged install runs" || fail "staged install: exit $(rc): $(cat "$tmp/last.stderr")"
else
    fail "make install failed: $(cat "$tmp/make.log")"
fi

finish
