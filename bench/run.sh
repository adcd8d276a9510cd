#!/usr/bin/env bash
# bench/run.sh - what `make bench` runs: installs what the peers need when it
# can (Debian packages as root, the DuckDB Node package with npm), then runs
# bench/bench.py, which measures and writes docs/benchmarks.md. A peer whose
# tools cannot be installed is skipped with a note; nothing here prompts.
# BENCH_NO_INSTALL=1 skips the installing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
[ -x "$python" ] || python=python3

packages="time lua5.4 luajit gawk python3-pandas linux-perf"
if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
  missing=""
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "bench: installing$missing"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq || echo "bench: apt-get update failed"
      # All at once, else one by one so that one missing package spares the rest.
      # shellcheck disable=SC2086
      if ! apt-get install -y -qq $missing; then
        for p in $missing; do
          apt-get install -y -qq "$p" || echo "bench: could not install $p; its peer is skipped"
        done
      fi
    else
      echo "bench: not installed:$missing (run as root to install; those peers are skipped)"
    fi
  fi

  if command -v npm >/dev/null && [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
    echo "bench: installing @duckdb/node-api into bench/node_modules"
    (cd "$here" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) ||
      echo "bench: npm could not install @duckdb/node-api; the DuckDB peer is skipped"
  fi
fi

exec "$python" "$here/bench.py" "$@"
