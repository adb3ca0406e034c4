#!/usr/bin/env bash
# Prepares a fresh Debian machine for the demo and the tests: the Debian packages the
# tests need (installed with apt-get when missing), the npm dependencies (npm ci, skipped
# when package-lock.json has not changed since the last install), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# The packages' engines say Node.js 20.19 or newer; npm ci only warns about an older one.
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)'; then
  echo "setup: Node.js 20.19 or newer is needed; this is $(node --version)" >&2
  exit 1
fi

need=()
# The browser tests start Debian's Chromium at this path (never a browser of their own).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# promtool checks and unit-tests the Prometheus rules in collector-config/; the prometheus
# server evaluates them against scraped series.
{ command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; } || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.package-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

echo "setup: build"
npm run --silent build
