"""The Python stack's equivalent of a subnetkit miner, for the benchmark: FastAPI on uvicorn with a
trivial handler, authenticating every task with the Bittensor SDK's `bittensor.http_auth.verify`.

Per `POST /{subnet}/task` it does what our miner does, in the same order, and no more:
btauth/1 verification bound to the miner's hotkey (401, 403 for another receiver), authorisation
against a fixed set of validator hotkeys standing in for the metagraph (403), the JSON task parsed,
the trivial answer `{"ok": true}`, and the answer signed back to the caller with
`bittensor.http_auth.sign` (method POST, the request's target, the response body), as our miner
signs its responses. `GET /health` answers `{"status": "ok"}`.

    python fastapi_miner.py --port 8092 --workers 1 \
        --wallet-path framework/protocol/tests/data/wallets --wallet miner --hotkey default \
        --validator 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV

With more than one worker each process keeps its own `InMemoryNonceStore`, so a request replayed
to another worker is not caught: a real multi-worker deployment needs a shared `NonceStore`
(e.g. Redis), which would add a network round trip per request. The benchmark reports both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import bittensor as bt
from bittensor import http_auth
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

# uvicorn imports this module in each worker process: its settings come from the environment.
_ENV_WALLET_PATH = "SUBNETKIT_FASTAPI_WALLET_PATH"
_ENV_WALLET = "SUBNETKIT_FASTAPI_WALLET"
_ENV_HOTKEY = "SUBNETKIT_FASTAPI_HOTKEY"
_ENV_VALIDATORS = "SUBNETKIT_FASTAPI_VALIDATORS"
_ENV_MAX_AGE = "SUBNETKIT_FASTAPI_MAX_AGE"


def _create_app() -> FastAPI:
    wallet = bt.Wallet(
        name=os.environ.get(_ENV_WALLET, "miner"),
        hotkey=os.environ.get(_ENV_HOTKEY, "default"),
        path=os.environ[_ENV_WALLET_PATH],
    )
    own_hotkey = wallet.hotkey.ss58_address
    validators = frozenset(filter(None, os.environ.get(_ENV_VALIDATORS, "").split(",")))
    max_age = float(os.environ.get(_ENV_MAX_AGE, http_auth.DEFAULT_MAX_AGE))
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "hotkey": own_hotkey}

    @app.post("/{subnet}/task")
    async def task(subnet: str, request: Request) -> Response:
        body = await request.body()
        # The target exactly as sent: the raw path plus the query, if any.
        target = request.scope["raw_path"].decode("latin-1")
        if request.scope["query_string"]:
            target += "?" + request.scope["query_string"].decode("latin-1")
        try:
            caller = http_auth.verify(
                request.headers,
                body,
                method=request.method,
                path=target,
                self_hotkey_ss58=own_hotkey,
                max_age=max_age,
            )
        except http_auth.WrongReceiver as error:
            return JSONResponse({"error": str(error)}, status_code=403)
        except http_auth.AuthError as error:
            return JSONResponse({"error": str(error)}, status_code=401)
        if caller.hotkey_ss58 not in validators:
            return JSONResponse({"error": "hotkey is not a registered validator"}, status_code=403)
        try:
            json.loads(body)
        except ValueError:
            return JSONResponse({"error": "task is not valid JSON"}, status_code=400)
        answer = b'{"ok":true}'
        headers = http_auth.sign(wallet, method="POST", path=target, body=answer, receiver_ss58=caller.hotkey_ss58)
        return Response(answer, media_type="application/json", headers=headers)

    return app


# Built at import when uvicorn (or a test) imports the module with its settings in the environment.
app = _create_app() if _ENV_WALLET_PATH in os.environ else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--wallet-path", required=True)
    parser.add_argument("--wallet", default="miner")
    parser.add_argument("--hotkey", default="default")
    parser.add_argument("--validator", action="append", default=[], help="a validator hotkey allowed to call")
    parser.add_argument(
        "--max-age",
        type=float,
        default=http_auth.DEFAULT_MAX_AGE,
        help="oldest nonce accepted, in seconds (default 10; the SDK's nonce store keeps 60 s)",
    )
    args = parser.parse_args()

    os.environ[_ENV_WALLET_PATH] = args.wallet_path
    os.environ[_ENV_WALLET] = args.wallet
    os.environ[_ENV_HOTKEY] = args.hotkey
    os.environ[_ENV_VALIDATORS] = ",".join(args.validator)
    os.environ[_ENV_MAX_AGE] = str(args.max_age)

    import uvicorn

    # The fastest uvicorn configuration: uvloop and httptools (installed by scripts/setup-python.sh).
    uvicorn.run(
        "fastapi_miner:app",
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
