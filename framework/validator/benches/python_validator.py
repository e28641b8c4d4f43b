"""The Python stack's equivalent of a validator round's network part, for the `rounds` benchmark.

What a Python validator on the Bittensor SDK (bittensor 11.3.0) does to query its miners: per
round, for every miner at once, the task signed with `bittensor.http_auth.sign` as the
validator's hotkey and bound to the miner's hotkey (the target includes `?round=TAG`, as our
validator sends it), sent with aiohttp, and the answer checked: status 200, its btauth/1 headers
verified with `bittensor.http_auth.verify` as signed by that miner for this validator over the
target and the response body (with a replay record of our own), then the body parsed as JSON and
checked for the response schema's shape (an object whose `ok` is a boolean: the venv has no JSON
Schema library, so this hand check stands in for the compiled schema our side runs). Every answer
counts as ok, timeout, transport error or invalid, as `validator::MinerClient::query` counts them.

The configuration comes as JSON on stdin:

    {"validator_seed": "<64 hex>", "validator": "<ss58>", "route": "bench", "body": "{\"x\":1}",
     "miners": [{"uid": 0, "hotkey": "<ss58>", "host": "127.0.0.1", "port": 40001}, ...],
     "concurrency": 256, "timeout_s": 10, "warm_up_rounds": 2, "seconds": 3, "min_rounds": 3,
     "tag": "py1"}

It runs the warm-up rounds (they open the keep-alive connections), then rounds back to back until
`seconds` have passed (at least `min_rounds`), and prints one JSON object on stdout: rounds,
seconds, the process's CPU seconds over the timed rounds, per-round times, the outcome counts,
and `crypto_us`: microseconds to sign one request and verify one signed answer with
`bittensor.http_auth` alone, the floor a query cannot go below. Exit 2 on unusable input.

    python python_validator.py [--loop uvloop|asyncio] < config.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp
import bittensor as bt
import yarl
from bittensor import http_auth
from bittensor.sp_core import Keypair


def answer_shape_ok(answer: bytes) -> bool:
    """The response schema `{"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}`."""
    try:
        value = json.loads(answer)
    except ValueError:
        return False
    return isinstance(value, dict) and isinstance(value.get("ok"), bool)


def crypto_floor_us(keypair: Keypair, receiver: str, n: int = 2000) -> float:
    """Microseconds to sign one request and verify one signed answer with `bittensor.http_auth`."""
    miner = Keypair.create_from_seed(bytes(range(32)))
    target = "/bench/task?round=floor-0"
    answer = b'{"ok":true}'
    now = time.time_ns()
    answers = [
        http_auth.sign(miner, method="POST", path=target, body=answer, receiver_ss58=keypair.ss58_address, nonce_ns=now + i)
        for i in range(n)
    ]
    store = http_auth.InMemoryNonceStore()
    start = time.perf_counter()
    for headers in answers:
        http_auth.sign(keypair, method="POST", path=target, body=b'{"x":1}', receiver_ss58=receiver)
        http_auth.verify(headers, answer, method="POST", path=target, self_hotkey_ss58=keypair.ss58_address, nonce_store=store)
    return (time.perf_counter() - start) * 1e6 / n


async def bench(config: dict) -> dict:
    keypair = Keypair.create_from_seed(bytes.fromhex(config["validator_seed"]))
    me = keypair.ss58_address
    if me != config["validator"]:
        raise ValueError(f"the seed gives {me}, not the validator {config['validator']}")
    body = config["body"].encode()
    route = config["route"]
    miners = config["miners"]
    # The validator's replay record for answers (entries outlive the 10 s + 2 s window).
    answers = http_auth.InMemoryNonceStore()

    connector = aiohttp.TCPConnector(limit=int(config["concurrency"]), limit_per_host=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=float(config["timeout_s"]))

    async def query_one(session: aiohttp.ClientSession, miner: dict, target: str) -> str:
        url = yarl.URL(f"http://{miner['host']}:{miner['port']}{target}", encoded=True)
        headers = http_auth.sign(keypair, method="POST", path=target, body=body, receiver_ss58=miner["hotkey"])
        headers["Content-Type"] = "application/json"
        try:
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                if response.status != 200:
                    return "transport_error"
                caller = http_auth.verify(
                    response.headers,
                    answer,
                    method="POST",
                    path=target,
                    self_hotkey_ss58=me,
                    nonce_store=answers,
                )
        except asyncio.TimeoutError:
            return "timeout"
        except (aiohttp.ClientError, http_auth.AuthError, OSError):
            return "transport_error"
        if caller.hotkey_ss58 != miner["hotkey"]:
            return "transport_error"
        return "ok" if answer_shape_ok(answer) else "invalid"

    async def one_round(session: aiohttp.ClientSession, tag: str) -> list[str]:
        target = f"/{route}/task?round={tag}"
        return await asyncio.gather(*(query_one(session, miner, target) for miner in miners))

    outcomes: dict[str, int] = {}
    warm_up_outcomes: dict[str, int] = {}
    round_ms: list[float] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for index in range(int(config["warm_up_rounds"])):
            for outcome in await one_round(session, f"{config['tag']}-w{index}"):
                warm_up_outcomes[outcome] = warm_up_outcomes.get(outcome, 0) + 1
        seconds = float(config["seconds"])
        min_rounds = int(config["min_rounds"])
        cpu_start = time.process_time()
        start = time.perf_counter()
        rounds = 0
        while rounds < min_rounds or time.perf_counter() - start < seconds:
            round_start = time.perf_counter()
            results = await one_round(session, f"{config['tag']}-{rounds}")
            round_ms.append((time.perf_counter() - round_start) * 1000.0)
            for outcome in results:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            rounds += 1
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start

    return {
        "rounds": rounds,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rounds_per_second": rounds / elapsed,
        "round_ms": round_ms,
        "outcomes": outcomes,
        "warm_up_outcomes": warm_up_outcomes,
        "crypto_us": crypto_floor_us(keypair, miners[0]["hotkey"]),
        "bittensor": bt.__version__,
        "aiohttp": aiohttp.__version__,
        "python": sys.version.split()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop (default uvloop)")
    args = parser.parse_args()
    try:
        config = json.load(sys.stdin)
    except ValueError as error:
        print(f"error: the configuration on stdin is not JSON: {error}", file=sys.stderr)
        return 2
    try:
        if args.loop == "uvloop":
            import uvloop

            result = uvloop.run(bench(config))
        else:
            result = asyncio.run(bench(config))
    except (KeyError, ValueError) as error:
        print(f"error: unusable configuration: {error!r}", file=sys.stderr)
        return 2
    result["loop"] = args.loop
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
