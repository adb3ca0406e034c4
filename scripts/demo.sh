#!/usr/bin/env bash
# The demo of full checkouts (examples/checkout): sets the machine up (Debian packages,
# npm dependencies, build), then plays every checkout scenario in headless Chromium and
# prints each flow's trace and a summary. Flags are passed on to the demo, for example
#   bash scripts/demo.sh --otlp-endpoint http://localhost:4318   (also export to Jaeger/Tempo)
#   bash scripts/demo.sh --help
# Exit code 0 only when every scenario produced its expected trace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent -w examples/checkout demo -- "$@"
