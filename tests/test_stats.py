from __future__ import annotations

import numpy as np
import pytest

from humaneval_lab.errors import UserInputError
from humaneval_lab.passk import pass_at_k_array
from humaneval_lab.stats import (
    bootstrap_means,
    mean_interval,
    paired_difference,
    per_problem_pass_at_k,
    sign_flip_test,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# Synthetic world: problem difficulty z ~ N(0, 1), a per-problem model effect e ~ N(0, 0.5); run A
# solves a sample with probability sigmoid(z), run B with sigmoid(z + SHIFT + e). With n samples per
# problem the unbiased estimator has mean 1 - (1 - theta)^k, so the population difference in pass@k
# is E[(1 - theta_A)^k - (1 - theta_B)^k], which Gauss-Hermite quadrature gives to ~1e-12.
SHIFT, EFFECT_SD, N_SAMPLES, PROBLEMS = 0.4, 0.5, 5, 120


def true_difference(k: int) -> float:
    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    z, e = np.meshgrid(x, x * EFFECT_SD, indexing="ij")
    ww = np.outer(w, w)
    ta, tb = _sigmoid(z), _sigmoid(z + SHIFT + e)
    return float((ww * ((1 - ta) ** k - (1 - tb) ** k)).sum())


def synthetic_pair(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    z = rng.normal(size=PROBLEMS)
    e = rng.normal(scale=EFFECT_SD, size=PROBLEMS)
    ca = rng.binomial(N_SAMPLES, _sigmoid(z))
    cb = rng.binomial(N_SAMPLES, _sigmoid(z + SHIFT + e))
    return (per_problem_pass_at_k([(N_SAMPLES, int(c)) for c in ca], k),
            per_problem_pass_at_k([(N_SAMPLES, int(c)) for c in cb], k))  # fmt: skip


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("confidence", [0.95, 0.80])
def test_paired_interval_covers_the_true_difference_at_its_nominal_rate(k: int, confidence: float) -> None:
    truth = true_difference(k)
    assert truth > 0.03  # a real difference, so coverage is not about zero
    reps = 200
    rng = np.random.default_rng(1234 + k)
    covered = 0
    for rep in range(reps):
        a, b = synthetic_pair(rng, k)
        iv = paired_difference(a, b, confidence, seed=rep, resamples=1000)
        covered += iv.low <= truth <= iv.high
    # Binomial tolerance: 3.5 standard deviations of the observed rate around the nominal one. The
    # 0.80 case makes this two-sided in practice: an interval that is simply too wide fails there.
    sd = np.sqrt(confidence * (1 - confidence) / reps)
    assert abs(covered / reps - confidence) <= 3.5 * sd, (covered, reps, truth)


def test_pairing_makes_the_interval_narrower_than_ignoring_it() -> None:
    rng = np.random.default_rng(7)
    a, b = synthetic_pair(rng, 1)
    paired = paired_difference(a, b, seed=0)
    ia, ib = mean_interval(a, seed=1), mean_interval(b, seed=2)
    unpaired_width = np.hypot(ia.high - ia.low, ib.high - ib.low)
    assert paired.high - paired.low < 0.8 * unpaired_width


def test_sign_flip_test_is_calibrated_under_the_null_and_powerful_under_a_shift() -> None:
    rng = np.random.default_rng(99)
    rejections = 0
    reps = 200
    for rep in range(reps):
        z = rng.normal(size=PROBLEMS)
        ca = rng.binomial(N_SAMPLES, _sigmoid(z))
        cb = rng.binomial(N_SAMPLES, _sigmoid(z))
        a = per_problem_pass_at_k([(N_SAMPLES, int(c)) for c in ca], 1)
        b = per_problem_pass_at_k([(N_SAMPLES, int(c)) for c in cb], 1)
        rejections += sign_flip_test(a, b, seed=rep, draws=1000).p_value < 0.05
    assert rejections / reps <= 0.05 + 3.5 * np.sqrt(0.05 * 0.95 / reps)
    a, b = synthetic_pair(np.random.default_rng(3), 1)
    assert sign_flip_test(a, b, seed=0).p_value < 0.01


def test_sign_flip_exact_enumeration_by_hand() -> None:
    # d = (0.5, 0.25, -0.25): of the 8 sign patterns, |sum| >= 0.5 for 6 -> p = 0.75.
    a = np.zeros(4)
    b = np.array([0.5, 0.25, -0.25, 0.0])
    t = sign_flip_test(a, b)
    assert t.exact and t.nonzero == 3 and t.draws == 8 and t.p_value == 0.75
    assert sign_flip_test(a, a).p_value == 1.0


def test_exact_per_problem_values_match_the_float_form() -> None:
    counts = [(10, 0), (10, 3), (10, 10), (200, 100), (7, 6)]
    for k in (1, 5, 7):
        np.testing.assert_allclose(
            per_problem_pass_at_k(counts, k), pass_at_k_array(*zip(*counts, strict=True), k), atol=1e-12
        )
    assert per_problem_pass_at_k([(200, 100)], 1)[0] == 0.5  # exact, not 0.49999999999999956


def test_stratified_bootstrap_keeps_the_language_mix() -> None:
    values = np.array([0.0] * 10 + [1.0] * 10)
    strata = ["a"] * 10 + ["b"] * 10
    rng = np.random.default_rng(0)
    assert np.all(bootstrap_means(values, rng, 500, strata) == 0.5)
    assert np.std(bootstrap_means(values, rng, 500)) > 0.05


def test_seeded_and_reproducible() -> None:
    a, b = synthetic_pair(np.random.default_rng(5), 1)
    assert paired_difference(a, b, seed=11) == paired_difference(a, b, seed=11)
    assert paired_difference(a, b, seed=11) != paired_difference(a, b, seed=12)
    assert sign_flip_test(a, b, seed=4) == sign_flip_test(a, b, seed=4)


def test_identical_runs_have_a_zero_width_interval_at_zero() -> None:
    a, _ = synthetic_pair(np.random.default_rng(8), 1)
    iv = paired_difference(a, a.copy())
    assert (iv.estimate, iv.low, iv.high, iv.lower_bound, iv.upper_bound) == (0.0, 0.0, 0.0, 0.0, 0.0)


def test_bad_inputs_are_user_errors() -> None:
    with pytest.raises(UserInputError, match="confidence"):
        paired_difference(np.zeros(3), np.zeros(3), 1.5)
    with pytest.raises(UserInputError, match="same problems"):
        paired_difference(np.zeros(3), np.zeros(4))
    with pytest.raises(UserInputError, match="no problems"):
        bootstrap_means(np.zeros(0), np.random.default_rng(0))
