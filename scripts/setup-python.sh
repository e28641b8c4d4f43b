#!/usr/bin/env bash
# Creates (or checks) the Python environment of the interop test and the miner benchmark: a venv
# with the Bittensor Python SDK (`bittensor==11.3.0`, whose `bittensor.http_auth` is the btauth/1
# reference) plus FastAPI and uvicorn for the Python comparison miner, and aiohttp for the Python
# comparison validator (`framework/validator/benches/python_validator.py`). Prints the venv's python.
#
#   scripts/setup-python.sh            # venv at $SUBNETKIT_PY_VENV or target/py-interop
#   PYTHON=python3.12 scripts/setup-python.sh
#
# Idempotent: when the venv already holds exactly the pinned set below, it only checks the imports.
# Needs network access to PyPI only (or a local mirror/wheel directory configured for pip).
# Every package, transitive ones included, is pinned to the versions verified together; change
# them here, in one place, and the next run reinstalls.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SUBNETKIT_PY_VENV:-$repo/target/py-interop}"
base_python="${PYTHON:-python3}"

# The verified set (bittensor 11.3.0 on CPython 3.10 to 3.14). `bittensor` 11.x is the lean SDK:
# it no longer depends on async-substrate-interface or scalecodec, so the conflicts seen with
# 10.x do not arise; the import check below proves it on every run.
requirements="$(cat <<'EOF'
bittensor==11.3.0
bittensor-core==0.1.5
fastapi==0.165.0
uvicorn==0.54.0
uvloop==0.23.0 ; sys_platform != "win32"
httptools==0.9.0
aiohttp==3.14.5
aiohappyeyeballs==2.7.1
aiosignal==1.4.0
async-timeout==5.0.1 ; python_version < "3.11"
attrs==26.1.0
frozenlist==1.8.0
multidict==7.2.1
propcache==0.5.4
yarl==1.25.1
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
bitarray==3.12.3
ckzg==2.1.8
click==8.5.1
cytoolz==1.2.0
eth-account==0.13.7
eth-hash==0.8.0
eth-keyfile==0.8.1
eth-keys==0.8.0
eth-rlp==3.0.0
eth-typing==6.0.0
eth-utils==6.0.0
eth_abi==6.0.0
h11==0.16.0
hexbytes==2.0.0
idna==3.20
markdown-it-py==4.3.0
mdurl==0.1.2
opentelemetry-api==1.45.2
parsimonious==0.10.0
pycryptodome==3.24.1
pydantic==2.14.4
pydantic_core==2.50.5
Pygments==2.21.0
qrcode==8.2
regex==2026.11.19
rich==15.0.0
rlp==5.0.0
shellingham==1.5.4
starlette==1.10.0
toolz==1.2.0
typer==0.29.2
typing-inspection==0.4.5
typing_extensions==4.16.0
websockets==16.1.1
EOF
)"

python="$venv/bin/python"
stamp="$venv/.subnetkit-requirements"

check_imports() {
    "$python" - <<'EOF'
import sys
import bittensor
from bittensor import http_auth
import fastapi, uvicorn, aiohttp
if bittensor.__version__ != "11.3.0":
    sys.exit(f"bittensor {bittensor.__version__} is installed, 11.3.0 is required")
for name in ("sign", "verify", "build_payload", "InMemoryNonceStore"):
    if not hasattr(http_auth, name):
        sys.exit(f"bittensor.http_auth has no {name}")
EOF
}

if [[ -x "$python" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$requirements" ]] && check_imports 2>/dev/null; then
    echo "$python"
    exit 0
fi

if ! "$base_python" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] < (3, 15)))' 2>/dev/null; then
    echo "error: $base_python is not CPython 3.10 to 3.14 (set PYTHON to one)" >&2
    exit 2
fi

# A venv whose interpreter is gone (the base Python was removed or upgraded) cannot be repaired in place.
if [[ -d "$venv" && ! -x "$python" ]]; then
    rm -rf -- "$venv"
fi
if [[ ! -x "$python" ]]; then
    mkdir -p "$(dirname "$venv")"
    "$base_python" -m venv "$venv" >&2
fi

requirements_file="$(mktemp)"
trap 'rm -f -- "$requirements_file"' EXIT
printf '%s\n' "$requirements" >"$requirements_file"
# --no-deps with the full transitive set pinned: nothing unpinned can slip in.
"$python" -m pip install --quiet --disable-pip-version-check --no-input --require-virtualenv \
    --no-deps -r "$requirements_file" >&2
"$python" -m pip check >&2
check_imports
printf '%s' "$requirements" >"$stamp"
echo "$python"
