"""Uncertainty for pass@k: paired bootstrap intervals and a paired significance test.

Two runs on the same problem set are paired: problem i has an exact pass@k in each run, and the
difference we report is the mean over problems of ``d_i = pass@k_B(i) - pass@k_A(i)``. Problems
differ far more in difficulty than checkpoints do, so pairing removes most of the variance; an
unpaired interval would be several times wider.

The population we generalise to is "problems like these" (the benchmark is a sample of problems), so
the bootstrap resamples problems, with replacement, keeping each problem's pair together. With
several languages it resamples within each language (stratified): the suite's language mix is fixed
by design, not random. Intervals are percentile intervals of ``resamples`` bootstrap means, drawn
from a seeded ``numpy.random.Generator`` so that a number in a report can be reproduced.

The significance test is a paired sign-flip (permutation) test on the same d_i. Under the null
hypothesis "the two runs are exchangeable on every problem", each d_i is as likely to be -d_i, so
the p-value is the share of the 2^m sign patterns whose |mean| is at least the observed |mean|
(enumerated exactly when at most ``EXACT_SIGNS`` differences are non-zero, else Monte Carlo with the
(1 + hits) / (1 + draws) correction, which never returns 0). We chose it over Wilcoxon's
signed-rank test because it tests the statistic we report (the mean difference, not a
pseudo-median), needs no rule for the many exact zeros and ties that pass@k differences have
(problems both runs always or never solve), and needs no scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import numpy.typing as npt

from humaneval_lab.errors import UserInputError
from humaneval_lab.passk import pass_at_k

FloatArray = npt.NDArray[np.float64]
DEFAULT_RESAMPLES = 10_000
EXACT_SIGNS = 16  # 2^16 sign patterns: exact and still instant
_CHUNK_CELLS = 4_000_000  # bound the (resamples x problems) index matrix held at once


def per_problem_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> FloatArray:
    """Exact pass@k of each (n, c), as float64 (the rounding happens once, after the exact value)."""
    return np.array([float(pass_at_k(n, c, k)) for n, c in counts], dtype=np.float64)


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise UserInputError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")


def bootstrap_means(
    values: FloatArray,
    rng: np.random.Generator,
    resamples: int = DEFAULT_RESAMPLES,
    strata: Sequence[str] | None = None,
) -> FloatArray:
    """Means of ``values`` over ``resamples`` bootstrap resamples of its entries (within strata)."""
    if resamples < 1:
        raise UserInputError(f"resamples must be at least 1, got {resamples}")
    m = values.shape[0]
    if m == 0:
        raise UserInputError("no problems to resample")
    if strata is None:
        groups = [np.arange(m)]
    else:
        labels = np.asarray(strata)
        groups = [np.flatnonzero(labels == s) for s in sorted(set(strata))]
    totals = np.zeros(resamples, dtype=np.float64)
    for idx in groups:
        group = values[idx]
        size = group.shape[0]
        step = max(1, _CHUNK_CELLS // size)
        for start in range(0, resamples, step):
            stop = min(resamples, start + step)
            picks = rng.integers(0, size, size=(stop - start, size))
            totals[start:stop] += group[picks].sum(axis=1)
    means: FloatArray = totals / m
    return means


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval and one-sided bounds at the same confidence."""

    estimate: float
    low: float  # two-sided: (1 - confidence) / 2 quantile
    high: float
    lower_bound: float  # one-sided: (1 - confidence) quantile; P(true >= lower_bound) ~ confidence
    upper_bound: float
    confidence: float
    resamples: int


def percentile_interval(estimate: float, boot: FloatArray, confidence: float) -> Interval:
    check_confidence(confidence)
    alpha = 1 - confidence
    lo, hi, lb, ub = np.quantile(boot, [alpha / 2, 1 - alpha / 2, alpha, 1 - alpha])
    return Interval(estimate, float(lo), float(hi), float(lb), float(ub), confidence, int(boot.shape[0]))


def mean_interval(
    values: FloatArray, confidence: float = 0.95, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES,
    strata: Sequence[str] | None = None,
) -> Interval:  # fmt: skip
    """Bootstrap interval of the mean of one run's per-problem values (e.g. pass@k per language)."""
    boot = bootstrap_means(values, np.random.default_rng(seed), resamples, strata)
    return percentile_interval(float(values.mean()), boot, confidence)


def paired_difference(
    a: FloatArray, b: FloatArray, confidence: float = 0.95, *, seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES, strata: Sequence[str] | None = None,
) -> Interval:  # fmt: skip
    """Paired bootstrap interval of mean(b - a) over problems (b: candidate, a: baseline)."""
    if a.shape != b.shape:
        raise UserInputError(f"paired runs must have the same problems, got {a.shape[0]} and {b.shape[0]}")
    return mean_interval(b - a, confidence, seed=seed, resamples=resamples, strata=strata)


@dataclass(frozen=True)
class SignFlipTest:
    """Two-sided paired sign-flip test of mean(b - a) = 0."""

    p_value: float
    nonzero: int  # problems whose pass@k differs; only they carry information
    exact: bool
    draws: int  # sign patterns evaluated (2^nonzero when exact)
    name: str = "paired sign-flip permutation test"


def sign_flip_test(
    a: FloatArray, b: FloatArray, *, seed: int = 0, draws: int = DEFAULT_RESAMPLES
) -> SignFlipTest:
    """p-value of |mean(b - a)| under random sign flips of each paired difference."""
    if a.shape != b.shape:
        raise UserInputError(f"paired runs must have the same problems, got {a.shape[0]} and {b.shape[0]}")
    d = (b - a)[(b - a) != 0]
    m = d.shape[0]
    if m == 0:
        return SignFlipTest(1.0, 0, True, 1)
    observed = abs(d.sum())
    tol = 1e-9 * max(1.0, observed)  # equal sums must count as "at least as extreme" despite rounding
    if m <= EXACT_SIGNS:
        signs = np.array(list(product((1.0, -1.0), repeat=m)), dtype=np.float64)
        hits = int((np.abs(signs @ d) >= observed - tol).sum())
        return SignFlipTest(hits / signs.shape[0], m, True, int(signs.shape[0]))
    rng = np.random.default_rng(seed)
    hits = 0
    step = max(1, _CHUNK_CELLS // m)
    for start in range(0, draws, step):
        rows = min(step, draws - start)
        signs = rng.choice(np.array([1.0, -1.0]), size=(rows, m))
        hits += int((np.abs(signs @ d) >= observed - tol).sum())
    return SignFlipTest((1 + hits) / (1 + draws), m, False, draws)
