"""A Python validator calling a subnetkit miner with the Bittensor SDK's btauth/1 (bittensor 11.3.0).

Signs with `bittensor.http_auth.sign` as the validator wallet's hotkey (loaded with the SDK's
`bittensor.Wallet` from `--wallet-path`), sends plain HTTP with the standard library (the SDK has
no HTTP client dependency), and checks what the miner answers:

- valid signed tasks (with and without a query in the target) get 200, and the response's
  btauth/1 headers verify with `bittensor.http_auth.verify` as signed by the miner's hotkey for
  this validator over the request's target and the response body;
- a forged signature, a body changed after signing, a stale nonce and a replayed request get 401;
- a request signed for another receiver, or for no receiver, gets 403;
- refusals carry no btauth/1 signature.

Prints one JSON object ({"ok": bool, "cases": [...]}) on stdout and exits 1 if any case did not
go as expected (2 on unusable arguments or an unreachable miner).

    python client.py --url http://127.0.0.1:8091 --path /echo/task --miner-hotkey 5H... \
        --wallet-path framework/protocol/tests/data/wallets --wallet validator --hotkey default
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
import urllib.parse
import uuid

import bittensor as bt
from bittensor import http_auth

#: Seconds a stale request is back-dated by: well past the miner's 10 s freshness window.
STALE_BY_S = 60


class Miner:
    """One keep-alive HTTP/1.1 connection to the miner."""

    def __init__(self, url: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"--url must be http://HOST:PORT, got {url!r}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.timeout = timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def post(self, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        all_headers = {"Content-Type": "application/json", **headers}
        try:
            self.connection.request("POST", target, body=body, headers=all_headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The server may close an idle keep-alive connection; retry once on a new one.
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request("POST", target, body=body, headers=all_headers)
            response = self.connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()


def flip_last_hex_digit(signature: str) -> str:
    last = signature[-1]
    return signature[:-1] + ("0" if last != "0" else "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the miner's base URL, http://HOST:PORT")
    parser.add_argument("--path", required=True, help="the task route, e.g. /echo/task")
    parser.add_argument("--miner-hotkey", required=True, help="the miner's hotkey (ss58): the receiver")
    parser.add_argument("--wallet-path", required=True, help="directory holding the wallets")
    parser.add_argument("--wallet", default="validator", help="wallet name (default: validator)")
    parser.add_argument("--hotkey", default="default", help="hotkey name (default: default)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args()

    wallet = bt.Wallet(name=args.wallet, hotkey=args.hotkey, path=args.wallet_path)
    me = wallet.hotkey.ss58_address
    miner_hotkey = args.miner_hotkey
    try:
        miner = Miner(args.url, args.timeout)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    cases: list[dict] = []

    def record(name: str, expected: int, status: int, headers: dict[str, str], body: bytes, **extra) -> dict:
        signed = any(key.lower() == http_auth.HEADER_SIGNATURE.lower() for key in headers)
        problems = []
        if status != expected:
            problems.append(f"expected status {expected}, got {status}: {body[:200].decode('utf-8', 'replace')}")
        if status != 200 and signed:
            problems.append("a refusal carries a btauth/1 signature")
        case = {"name": name, "expected": expected, "status": status, "ok": not problems, "problems": problems}
        case.update(extra)
        cases.append(case)
        return case

    def check_signed_response(case: dict, target: str, headers: dict[str, str], body: bytes, sent: dict) -> None:
        """The 200 answer must be signed by the miner for this validator over `target` and the body."""
        try:
            # A store of our own: the validator's replay record for answers.
            caller = http_auth.verify(
                headers,
                body,
                method="POST",
                path=target,
                self_hotkey_ss58=me,
                nonce_store=http_auth.InMemoryNonceStore(),
            )
        except http_auth.AuthError as error:
            case["problems"].append(f"the response does not verify: {type(error).__name__}: {error}")
            case["ok"] = False
            return
        case["response_signer"] = caller.hotkey_ss58
        if caller.hotkey_ss58 != miner_hotkey:
            case["problems"].append(f"the response is signed by {caller.hotkey_ss58}, not the miner")
            case["ok"] = False
        try:
            case["response"] = json.loads(body)
        except ValueError:
            case["problems"].append("the response body is not JSON")
            case["ok"] = False
            return
        if case["response"] != sent:
            case["problems"].append(f"the echo miner answered {case['response']!r} to {sent!r}")
            case["ok"] = False

    def sign(target: str, body: bytes, **overrides) -> dict[str, str]:
        options = {"receiver_ss58": miner_hotkey}
        options.update(overrides)
        return http_auth.sign(wallet, method="POST", path=target, body=body, **options)

    try:
        # 1. A valid task, and one whose target carries a query (signed as sent, query included).
        for name, target in (("valid", args.path), ("valid_with_query", f"{args.path}?request={uuid.uuid4().hex}")):
            task = {"x": 21, "case": name}
            body = json.dumps(task).encode()
            status, headers, answer = miner.post(target, body, sign(target, body))
            case = record(name, 200, status, headers, answer)
            if status == 200:
                check_signed_response(case, target, headers, answer, task)

        body = json.dumps({"x": 1, "case": "refused"}).encode()

        # 2. Forged: a valid signature with one hex digit changed.
        headers = sign(args.path, body)
        headers[http_auth.HEADER_SIGNATURE] = flip_last_hex_digit(headers[http_auth.HEADER_SIGNATURE])
        record("forged_signature", 401, *miner.post(args.path, body, headers))

        # 3. The body changed after signing.
        headers = sign(args.path, body)
        record("tampered_body", 401, *miner.post(args.path, body.replace(b"1", b"2"), headers))

        # 4. Stale: signed well outside the freshness window.
        stale_nonce = time.time_ns() - STALE_BY_S * 1_000_000_000
        record("stale_nonce", 401, *miner.post(args.path, body, sign(args.path, body, nonce_ns=stale_nonce)))

        # 5. Replayed: the same signed request twice; the first is served, the second refused.
        task = {"x": 2, "case": "replay_first"}
        replay_body = json.dumps(task).encode()
        headers = sign(args.path, replay_body)
        status, first_headers, answer = miner.post(args.path, replay_body, headers)
        case = record("replay_first", 200, status, first_headers, answer)
        if status == 200:
            check_signed_response(case, args.path, first_headers, answer, task)
        record("replayed", 401, *miner.post(args.path, replay_body, headers))

        # 6. Bound to another receiver (the validator itself), and bound to none.
        record("wrong_receiver", 403, *miner.post(args.path, body, sign(args.path, body, receiver_ss58=me)))
        record("no_receiver", 403, *miner.post(args.path, body, sign(args.path, body, receiver_ss58=None)))
    except (http.client.HTTPException, OSError) as error:
        print(f"error: the miner at {args.url} did not answer: {error}", file=sys.stderr)
        return 2

    ok = all(case["ok"] for case in cases)
    summary = {
        "ok": ok,
        "bittensor": bt.__version__,
        "validator": me,
        "miner": miner_hotkey,
        "cases": cases,
    }
    print(json.dumps(summary, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
