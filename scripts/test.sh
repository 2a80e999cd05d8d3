#!/usr/bin/env bash
# Install the test dependencies into ./.venv and run every test: lint, then the suite on SQLite
# (browser tests included), then again on PostgreSQL when FIELDWATCH_TEST_POSTGRES_URL is set.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

# chromium for the browser tests; fonts-noto-cjk for Chinese in the browser and in evidence watermarks.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's ${missing[*]} for the tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "the tests need Debian's ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
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
