#!/usr/bin/env bash
# The long schemathesis run: the same tests as CI (tests/contract/test_schemathesis.py) with more
# examples per operation and role. Usage: scripts/fuzz.sh [EXAMPLES, default 200] [pytest args…].
# Set FIELDWATCH_TEST_DATABASE_URL to fuzz on PostgreSQL (the run makes and drops a sibling database).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-200}
shift || true
PYTEST=${PYTEST:-.venv/bin/pytest}
FIELDWATCH_FUZZ_EXAMPLES="$examples" "$PYTEST" -q -p no:cacheprovider tests/contract/test_schemathesis.py "$@"
