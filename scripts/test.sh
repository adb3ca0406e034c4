#!/usr/bin/env bash
# The one command that runs every test from a fresh clone: set-up, build, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
npm test 2>&1 | tee "$log" || status=$?

# One closing line over every workspace's mocha summary ("N passing", "N failing", "N pending").
awk '
  /^ +[0-9]+ passing/ { passed += $1 }
  /^ +[0-9]+ failing/ { failed += $1 }
  /^ +[0-9]+ pending/ { skipped += $1 }
  END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$log"
exit "$status"
