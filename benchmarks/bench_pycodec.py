"""What moving a candidate's answer between the Python driver's two processes costs, per item.

    python benchmarks/bench_pycodec.py [--items 1000000] [--rounds 3]

The candidate's answer crosses as data (sandbox/runner/hel_pydriver.py ``_wire`` + ``encode_reply``,
decoded by hel_pytests.py ``decode_reply``: JSON with tagged tuples, sets, bytes, complex). The
reference, measured in the same run on the same values, is the codec it replaced: the answer as
Python literal text (``repr``) parsed with ``ast.literal_eval``. Each codec's best round counts (a
shared machine's speed drifts). Prints, per value shape, microseconds per item for both and the
ratio; exits 1 if a value does not come back equal.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).resolve().parents[1] / "sandbox" / "runner"


def shapes(n: int) -> dict[str, Any]:
    return {
        "ints": list(range(n)),
        "floats": [i / 3 for i in range(n)],
        "(int, int, str) tuples": [(i, i + 1, "a") for i in range(n)],  # MBPP+ Mbpp/255's shape
        "str pairs": [["ab", "cd"] for _ in range(n // 2)],
    }


def best(fn: Any, rounds: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(RUNNER))
    import hel_pydriver as driver  # type: ignore[import-not-found]

    sys.modules["hel_pydriver"] = driver
    import hel_pytests as tests  # type: ignore[import-not-found]

    ok = True
    print(f"{'shape':<24} {'items':>9} {'json us/item':>13} {'literal us/item':>16} {'ratio':>6}")
    for name, value in shapes(args.items).items():
        items = len(value) * (3 if isinstance(value[0], tuple) else 1)
        new_s, got = best(
            lambda v=value: tests.decode_reply(driver.encode_reply(["ok", driver._wire(v)])), args.rounds
        )
        old_s, old = best(lambda v=value: ast.literal_eval(repr(("ok", v))), args.rounds)
        ok = ok and got[1] == value and old[1] == value
        print(f"{name:<24} {items:>9} {new_s / items * 1e6:>13.3f} {old_s / items * 1e6:>16.3f} "
              f"{old_s / new_s:>5.1f}x")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
