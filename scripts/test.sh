#!/usr/bin/env bash
# The one command that runs every test from a fresh clone: set-up, build, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
