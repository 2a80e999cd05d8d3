#!/usr/bin/env bash
# Run every benchmark of docs/benchmarks.md, reproducibly, and keep the results.
#
#   scripts/bench.sh            full run (about 15 minutes on 2 cores)
#   scripts/bench.sh --quick    short loops and 100,000 actions, to check that everything works
#
# Needs: Python 3.11+, wrk and ab (installed with apt-get when run as root on Debian/Ubuntu, otherwise
# `sudo apt-get install wrk apache2-utils`), and PostgreSQL reachable at $BENCH_PG_URL (default
# postgresql://postgres@127.0.0.1:5432/postgres, trust auth) with the right to create databases.
# Every benchmark creates its own throw-away SQLite files and PostgreSQL databases and drops them;
# servers listen on 127.0.0.1 only and are stopped by PID.
# Results go to $BENCH_OUT (default build/bench/<timestamp>/): one .md, .json (and .txt) per benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "usage: scripts/bench.sh [--quick]" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_log=$(mktemp)
if ! { .venv/bin/python -m pip install --quiet --upgrade pip -c constraints.txt && .venv/bin/python -m pip install --quiet -e . -c constraints.txt; } \
  >"$pip_log" 2>&1; then
  cat "$pip_log" >&2
  exit 1
fi
rm -f "$pip_log"

if ! command -v wrk >/dev/null || ! command -v ab >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing wrk and apache2-utils (ab) with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk apache2-utils >/dev/null
  else
    echo "the HTTP benchmark needs wrk and ab: sudo apt-get install wrk apache2-utils" >&2
    exit 2
  fi
fi

export BENCH_PG_URL=${BENCH_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
if ! .venv/bin/python - "$BENCH_PG_URL" <<'EOF'
import asyncio, sys
import asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1], timeout=5)
    await conn.close()
asyncio.run(main())
EOF
then
  echo "PostgreSQL is not reachable at $BENCH_PG_URL (set BENCH_PG_URL)" >&2
  exit 2
fi

out=${BENCH_OUT:-build/bench/$(date +%Y%m%dT%H%M%S)}
mkdir -p "$out"

{
  echo "date:       $(date -Is)"
  echo "commit:     $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "nproc:      $(nproc)"
  echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory:"
  free -h | sed 's/^/  /'
  echo "kernel:     $(uname -sr)"
  echo "python:     $(.venv/bin/python -c 'import platform; print(platform.python_version())')"
  echo "sqlite:     $(.venv/bin/python -c 'import sqlite3; print(sqlite3.sqlite_version)')"
  echo "postgresql: $(.venv/bin/python - "$BENCH_PG_URL" <<'EOF'
import asyncio, sys
import asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1])
    print(await conn.fetchval("SHOW server_version"))
    await conn.close()
asyncio.run(main())
EOF
)"
  echo "packages:   $(.venv/bin/python -m pip list --format=freeze 2>/dev/null | grep -iE '^(litestar|piccolo|uvicorn|asyncpg|aiosqlite|msgspec)==' | tr '\n' ' ')"
  echo "wrk:        $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "load avg:   $(cut -d' ' -f1-3 /proc/loadavg) (at the start; other work on the machine skews results)"
} | tee "$out/machine.txt"

if [ "$quick" = 1 ]; then
  orm_args=(--iterations 2000 --warmup 200 --rounds 4)
  http_args=(--duration 3 --warmup 1 --rounds 1)
  cost_args=(--requests 50 --rounds 2 --seed-actions 10)
  feed_args=(--count 100000 --requests 50)
else
  orm_args=(--iterations 20000 --warmup 1000 --rounds 10)
  http_args=(--duration 10 --warmup 2 --rounds 3)
  cost_args=(--requests 400 --rounds 5)
  feed_args=(--count 1000000 --requests 200)
fi

echo
echo "== primary-key read: ORM vs raw driver =="
.venv/bin/python benchmarks/orm_vs_raw.py "${orm_args[@]}" --json "$out/orm_vs_raw.json" | tee "$out/orm_vs_raw.md"

echo
echo "== HTTP: the app vs a bare Litestar endpoint (wrk) =="
.venv/bin/python benchmarks/http_bench.py "${http_args[@]}" --ab --json "$out/http.json" | tee "$out/http.md"

echo
echo "== one request's cost in process, by endpoint =="
for backend in sqlite postgres; do
  .venv/bin/python benchmarks/request_cost.py --backend "$backend" "${cost_args[@]}" \
    --json "$out/request_cost_$backend.json" | tee "$out/request_cost_$backend.md"
done

echo
echo "== the action feed at scale on PostgreSQL =="
.venv/bin/python benchmarks/feed_p95.py "${feed_args[@]}" --json "$out/feed.json" \
  --explain-out "$out/feed_explain.txt" | tee "$out/feed.md"

.venv/bin/python -m pip install --quiet -e '.[test]' -c constraints.txt && .venv/bin/python benchmarks/upload.py $([ "$quick" = 1 ] && echo --sizes 64M --rounds 1 --warmup-size 16M) --json "$out/upload.json" | tee "$out/upload.md"

echo
echo "== supervision documents: PDF per page vs typst's minimal render; issuance under 8 clients =="
.venv/bin/python benchmarks/documents.py --pg-url "$BENCH_PG_URL" $([ "$quick" = 1 ] && echo --iterations 3 --documents 24) \
  --json "$out/documents.json" | tee "$out/documents.md"
echo "load avg at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"

echo
echo "results: $out"
