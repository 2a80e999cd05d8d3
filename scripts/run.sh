#!/usr/bin/env bash
# Install fieldwatch into ./.venv and run it on the embedded defaults (SQLite and media under ./var,
# in-process live channels) with demo data. Extra arguments go to `fieldwatch demo` (e.g. --password).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip -c constraints.txt
.venv/bin/python -m pip install --quiet -e . -c constraints.txt

.venv/bin/fieldwatch demo "$@"
echo
echo "Open http://${FIELDWATCH_HOST:-127.0.0.1}:${FIELDWATCH_PORT:-8000}/ (Ctrl-C stops the server)"
exec .venv/bin/fieldwatch serve --host "${FIELDWATCH_HOST:-127.0.0.1}" --port "${FIELDWATCH_PORT:-8000}"
