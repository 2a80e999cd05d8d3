#!/usr/bin/env bash
# Install the test dependencies into ./.venv and run every test: lint, then the suite on SQLite
# (browser tests included), then again on PostgreSQL when FIELDWATCH_TEST_POSTGRES_URL is set.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip -c constraints.txt
.venv/bin/python -m pip install --quiet -e ".[test]" -c constraints.txt

# Debian packages: chromium for the browser tests; fonts-noto-cjk for Chinese in the browser and in
# evidence watermarks and supervision-document PDFs; redis-server for the live stream shared through
# Redis and its fault tests; poppler-utils (pdftotext, pdffonts, pdftoppm) for the PDF tests.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's ${missing[*]} for the tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "the tests need Debian's ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
  fi
fi

# The Redis tests use the server at 127.0.0.1:6379: start a private one there when none answers, and
# stop it (by its PID) when the tests end.
redis_up() { .venv/bin/python -c "import redis; redis.Redis(host='127.0.0.1', port=6379).ping()" 2>/dev/null; }
if ! redis_up; then
  if command -v redis-server >/dev/null; then
    redis_dir=$(mktemp -d)
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$redis_dir" --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
    trap 'kill "$(cat "$redis_dir/redis.pid")" 2>/dev/null || true; rm -rf "$redis_dir"' EXIT
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
    echo "started redis-server on 127.0.0.1:6379 for the tests"
  else
    echo "the Redis tests need redis-server at 127.0.0.1:6379 (Debian: apt-get install redis-server)" >&2
  fi
fi

.venv/bin/ruff check backend media_store tests scripts benchmarks
.venv/bin/ruff format --check backend media_store tests scripts benchmarks
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: backend/ and media_store/

echo "== tests on SQLite =="
env -u FIELDWATCH_TEST_DATABASE_URL .venv/bin/pytest "$@"

if [ -n "${FIELDWATCH_TEST_POSTGRES_URL:-}" ]; then
  echo "== tests on PostgreSQL (${FIELDWATCH_TEST_POSTGRES_URL##*@}); browser tests ran above on SQLite =="
  FIELDWATCH_TEST_DATABASE_URL="$FIELDWATCH_TEST_POSTGRES_URL" .venv/bin/pytest -m "not e2e" "$@"
fi
