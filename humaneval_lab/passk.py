"""The unbiased pass@k estimator of Chen et al. (2021), computed exactly.

For a problem with n samples of which c pass:

    pass@k = 1 - C(n - c, k) / C(n, k)          (k <= n)

``pass_at_k`` evaluates the definition with Python integers and returns a ``Fraction``, so
(n=200, c=100, k=1) is exactly 1/2 (the float product form gives 0.49999999999999956, and a gate on
such a number can flap). ``pass_at_k_array`` is the numerically stable product form
``1 - prod_{i=n-c+1}^{n} (1 - k/i)``, vectorised with numpy, for callers that need many values fast.

Unlike openai/human-eval we refuse k > n instead of returning 1.0 when c = 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import comb

import numpy as np
import numpy.typing as npt

from humaneval_lab.errors import PassAtKError


def _check(n: int, c: int, k: int) -> None:
    if k < 1:
        raise PassAtKError(f"k must be at least 1, got {k}")
    if n < 1:
        raise PassAtKError("a problem has no samples: pass@k is undefined (score it or drop it explicitly)")
    if not 0 <= c <= n:
        raise PassAtKError(f"correct count c={c} must be between 0 and n={n}")
    if k > n:
        raise PassAtKError(f"pass@{k} needs at least {k} samples per problem, got n={n}")


def pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Exact pass@k for one problem: 1 - C(n-c, k) / C(n, k)."""
    _check(n, c, k)
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def pass_at_k_array(
    n: Sequence[int] | npt.NDArray[np.int64],
    c: Sequence[int] | npt.NDArray[np.int64],
    k: int,
) -> npt.NDArray[np.float64]:
    """pass@k for many problems at once, in the stable product form (float64)."""
    ns = np.asarray(n, dtype=np.int64)
    cs = np.asarray(c, dtype=np.int64)
    if ns.shape != cs.shape:
        raise PassAtKError(f"n and c differ in shape: {ns.shape} vs {cs.shape}")
    for ni, ci in zip(ns.tolist(), cs.tolist(), strict=True):
        _check(ni, ci, k)
    out = np.ones(ns.shape, dtype=np.float64)
    if ns.size == 0:
        return out
    # 1 - prod_{i=n-c+1}^{n} (1 - k/i); where n - c < k the product has a zero factor and pass@k = 1.
    top = int(ns.max())
    i = np.arange(1, top + 1, dtype=np.float64)
    factors = 1.0 - k / i  # factors[i-1] = 1 - k/i
    logs = np.zeros_like(factors)
    positive = factors > 0
    logs[positive] = np.log(factors[positive])
    cum = np.concatenate([[0.0], np.cumsum(logs)])  # cum[m] = sum_{i<=m} log(1 - k/i) over i > k
    lo = ns - cs  # product over i in (lo, n]
    certain = lo < k
    prod = np.exp(cum[ns] - cum[lo])
    out = np.where(certain, 1.0, 1.0 - prod)
    return out


@dataclass(frozen=True)
class Counts:
    """Samples (n) and passes (c) of one problem."""

    n: int
    c: int


def mean_pass_at_k(counts: Iterable[Counts], k: int) -> Fraction:
    """Mean exact pass@k over problems; every problem weighs the same whatever its n."""
    values = [pass_at_k(x.n, x.c, k) for x in counts]
    if not values:
        raise PassAtKError("no problems to average")
    return sum(values, Fraction(0)) / len(values)


def usable_ks(counts: Mapping[str, Counts], ks: Sequence[int]) -> tuple[list[int], list[int]]:
    """Split ks into those every problem supports (k <= n) and those it must drop."""
    if not counts:
        raise PassAtKError("no problems were scored")
    smallest = min(x.n for x in counts.values())
    keep = [k for k in ks if k <= smallest]
    return keep, [k for k in ks if k > smallest]
