#!/usr/bin/env bash
# Installs chopsticks (npm `@acala-network/chopsticks`, pinned with its lockfile in
# framework/chain/tests/chopsticks) for the subtensor backend's tests, which run the real
# subtensor runtime under it (see framework/test-chopsticks). Idempotent: runs `npm ci` only when
# node_modules is missing or was installed from another lockfile. Needs Node.js and npm.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/framework/chain/tests/chopsticks"
stamp="$dir/node_modules/.subnetkit-lock.sha256"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup-chopsticks: node and npm are required (Node.js 20 or newer)" >&2
    exit 1
fi

want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$dir/node_modules/@acala-network/chopsticks/chopsticks.cjs" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
