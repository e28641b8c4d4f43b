"""Runs the Bittensor SDK's weight conversion on cases read from stdin; prints the results.

Input (JSON): {"cases": [case, ...]}, each case one of
  {"op": "clip", "weights": [bits], "limit": bits}            -> clip_to_max_weight
  {"op": "normalize", "uids": [int], "weights": [bits]}       -> normalize
  {"op": "set", "uids": [int], "weights": [bits], "max_weight_limit": u16}
      -> what the SetWeights intent submits: _as_pairs, then _conform with that MaxWeightsLimit
Floats travel as the u64 bits of their IEEE-754 doubles, so nothing is lost to decimal text.

Output (JSON): {"bittensor": version, "python": [major, minor], "results": [result, ...]}, each
result {"ok": true, "floats": [bits]} (clip), {"ok": true, "uids": [...], "values": [...]}, or
{"ok": false, "error": "..."} for the SDK's own refusals (BittensorError). Any other exception is
a bug worth seeing: it propagates and the script exits non-zero.
"""

import json
import struct
import sys

import bittensor
from bittensor.intents.weights import _as_pairs, _conform, _Preflight, clip_to_max_weight, normalize
from bittensor.result import BittensorError


def to_float(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def to_bits(value):
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def run(case):
    weights = [to_float(bits) for bits in case["weights"]]
    try:
        if case["op"] == "clip":
            clipped = clip_to_max_weight(weights, to_float(case["limit"]))
            return {"ok": True, "floats": [to_bits(w) for w in clipped]}
        if case["op"] == "normalize":
            uids, values = normalize(case["uids"], weights)
        elif case["op"] == "set":
            uids, weights = _as_pairs(case["uids"], weights)
            # A validator uid no case uses (no self-weight exemption), no minimum weight count.
            preflight = _Preflight(
                uid=-1,
                commit_reveal=False,
                min_allowed_weights=0,
                max_weight_limit=case["max_weight_limit"],
            )
            uids, values = _conform(uids, weights, preflight, netuid=1)
        else:
            raise ValueError(f"unknown op {case['op']!r}")
        return {"ok": True, "uids": uids, "values": values}
    except BittensorError as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def main():
    cases = json.load(sys.stdin)["cases"]
    results = [run(case) for case in cases]
    json.dump(
        {
            "bittensor": bittensor.__version__,
            "python": list(sys.version_info[:2]),
            "results": results,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
