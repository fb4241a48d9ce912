"""Compare scored runs and decide release gates.

``compare(runs)`` reports pass@k per language and overall for every run and, for every run after
the first (the baseline), the paired difference to the baseline with a bootstrap interval, a paired
sign-flip test (see ``stats``), and the problems that flipped: solved (at least one passing sample)
by one run and not the other.

Runs are comparable only when they were scored on the same problem set (equal content sha256, so the
same task_ids with the same tests) and at the same k. "The same k" means: without ``ks``, every run
must report the same pass@k keys in its summary.json (a run with n=1 reports only pass@1 and cannot
be set against a pass@10); with ``ks`` given, every asked k must be computable for every run (k at
most its smallest per-problem sample count). Different n per run is fine: pass@k is unbiased for
any n >= k.

``gate(baseline, candidate, max_drop)`` is a non-inferiority test; see ``gate`` for the rule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from humaneval_lab.errors import PassAtKError, UserInputError
from humaneval_lab.numfmt import amount, change, level, pts
from humaneval_lab.runs import ProblemResult, Run
from humaneval_lab.stats import (
    DEFAULT_RESAMPLES,
    FloatArray,
    Interval,
    SignFlipTest,
    check_confidence,
    paired_difference,
    per_problem_pass_at_k,
    sign_flip_test,
)

OVERALL = "overall"


def parse_metric(metric: str) -> int:
    """``pass@10`` -> 10."""
    head, _, tail = metric.partition("@")
    if head != "pass" or not tail.isdigit() or int(tail) < 1:
        raise UserInputError(f"metric must look like pass@1 or pass@10, got {metric!r}")
    return int(tail)


def check_comparable(runs: Sequence[Run], ks: Sequence[int] | None = None) -> tuple[int, ...]:
    """Refuse runs on different problem sets or at different k; return the k to compare at."""
    if not runs:
        raise UserInputError("no runs given")
    first = runs[0]
    for r in runs[1:]:
        if r.problem_set.get("sha256") != first.problem_set.get("sha256") or r.task_ids != first.task_ids:
            raise UserInputError(
                f"runs were scored on different problem sets: {first.name} on {_describe(first)}, "
                f"{r.name} on {_describe(r)}; score both on the same problems to compare them"
            )
    if ks:
        for k in ks:
            for r in runs:
                if k > r.min_n:
                    raise PassAtKError(
                        f"pass@{k} cannot be computed for {r.name}: its smallest per-problem sample count is {r.min_n}"
                    )
        return tuple(sorted(set(ks)))
    for r in runs[1:]:
        if r.ks != first.ks:
            raise UserInputError(
                f"runs were scored at different k: {first.name} reports {_keys(first.ks)}, {r.name} reports "
                f"{_keys(r.ks)}; choose a k every run supports explicitly (e.g. --k 1)"
            )
    return first.ks


# What in a sandbox description can change a verdict: the image, the judging code, the limits.
SANDBOX_KEYS = ("executor", "image_id", "judge_sha256", "limits")


def check_same_sandbox(runs: Sequence[Run], allow_mixed: bool = False) -> tuple[str, ...]:
    """Refuse runs judged by different sandboxes (another image, runner or limits: their verdicts
    are not the same measurement); with ``allow_mixed``, return a note saying so instead. A run
    that records no sandbox (scored before it was recorded) gets a note, never a refusal."""
    first = runs[0]
    notes = [f"{r.name}: the sandbox that judged it is not recorded" for r in runs if not r.sandbox]
    for r in runs[1:]:
        if not (first.sandbox and r.sandbox):
            continue
        differ = [key for key in SANDBOX_KEYS if first.sandbox.get(key) != r.sandbox.get(key)]
        if not differ:
            continue
        what = ", ".join(
            f"{key} {_short(first.sandbox.get(key))} vs {_short(r.sandbox.get(key))}" for key in differ
        )
        line = f"{first.name} and {r.name} were judged by different sandboxes ({what})"
        if not allow_mixed:
            raise UserInputError(f"{line}; re-score both with one sandbox, or pass --allow-mixed-sandboxes")
        notes.append(line)
    return tuple(notes)


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    return text.removeprefix("sha256:")[:12] if len(text) > 40 else text


def _describe(r: Run) -> str:
    ps = r.problem_set
    return f"{ps.get('name', '?')} ({ps.get('size', len(r.problems))} problems, sha256 {str(ps.get('sha256', '?'))[:12]})"


def _keys(ks: Sequence[int]) -> str:
    return ", ".join(f"pass@{k}" for k in ks) or "no pass@k"


@dataclass(frozen=True)
class Score:
    run: str
    k: int
    scope: str  # "overall" or a language
    value: float
    exact: str  # the exact fraction, "numerator/denominator"
    problems: int


@dataclass(frozen=True)
class Difference:
    """Candidate minus baseline pass@k on one scope, paired over its problems."""

    baseline: str
    candidate: str
    k: int
    scope: str
    baseline_value: float
    candidate_value: float
    interval: Interval  # of candidate - baseline
    test: SignFlipTest
    problems: int

    @property
    def estimate(self) -> float:
        return self.interval.estimate


@dataclass(frozen=True)
class Flip:
    """A problem solved (some sample passed) by exactly one of the two runs; rates are c/n."""

    task_id: str
    language: str
    baseline_rate: float
    candidate_rate: float


@dataclass(frozen=True)
class PairComparison:
    baseline: str
    candidate: str
    differences: tuple[Difference, ...]
    gained: tuple[Flip, ...]  # solved by the candidate only
    lost: tuple[Flip, ...]  # solved by the baseline only


@dataclass(frozen=True)
class Comparison:
    runs: tuple[str, ...]
    problem_set: dict[str, object]
    ks: tuple[int, ...]
    languages: tuple[str, ...]
    scores: tuple[Score, ...]
    pairs: tuple[PairComparison, ...]
    confidence: float
    seed: int
    resamples: int
    test: str = "paired sign-flip permutation test"
    notes: tuple[str, ...] = field(default_factory=tuple)
    # run name -> which model made its samples, with what settings (summary.json "model"; None: unknown)
    models: dict[str, dict[str, object] | None] = field(default_factory=dict)


def _values(problems: Sequence[ProblemResult], k: int) -> FloatArray:
    return per_problem_pass_at_k([(p.n, p.c) for p in problems], k)


def _scopes(run: Run) -> list[str | None]:
    langs: list[str | None] = list(run.languages)
    return [None, *langs] if len(langs) > 1 else [None]


def difference(
    baseline: Run, candidate: Run, k: int, language: str | None = None, *, confidence: float = 0.95,
    seed: int = 0, resamples: int = DEFAULT_RESAMPLES,
) -> Difference:  # fmt: skip
    """Paired difference candidate - baseline of pass@k on one language (None: overall, stratified)."""
    check_comparable([baseline, candidate], [k])
    a_rows, b_rows = baseline.select(language), candidate.select(language)
    if not a_rows:
        raise UserInputError(
            f"language {language!r} is not in the runs (they have: {', '.join(baseline.languages)})"
        )
    a, b = _values(a_rows, k), _values(b_rows, k)
    strata = [p.language for p in a_rows] if language is None else None
    interval = paired_difference(a, b, confidence, seed=seed, resamples=resamples, strata=strata)
    exact = candidate.exact_pass_at_k(k, language) - baseline.exact_pass_at_k(k, language)
    interval = replace(interval, estimate=float(exact))  # the exact mean, not its float re-summation
    return Difference(
        baseline.name, candidate.name, k, language or OVERALL,
        float(baseline.exact_pass_at_k(k, language)), float(candidate.exact_pass_at_k(k, language)),
        interval, sign_flip_test(a, b, seed=seed, draws=resamples), len(a_rows),
    )  # fmt: skip


def flips(baseline: Run, candidate: Run) -> tuple[tuple[Flip, ...], tuple[Flip, ...]]:
    """(gained, lost): problems solved by the candidate only, and by the baseline only."""
    gained: list[Flip] = []
    lost: list[Flip] = []
    for a, b in zip(baseline.problems, candidate.problems, strict=True):
        if (a.c > 0) != (b.c > 0):
            (gained if b.c > 0 else lost).append(Flip(a.task_id, a.language, a.rate, b.rate))
    return tuple(gained), tuple(lost)


def compare(
    runs: Sequence[Run], ks: Sequence[int] | None = None, *, confidence: float = 0.95, seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES, allow_mixed_sandboxes: bool = False,
) -> Comparison:  # fmt: skip
    """Every run's pass@k, and each later run against the first (the baseline)."""
    check_confidence(confidence)
    if len(runs) < 2:
        raise UserInputError("compare needs at least two runs")
    use_ks = check_comparable(runs, ks)
    sandbox_notes = check_same_sandbox(runs, allow_mixed_sandboxes)
    if not use_ks:
        raise UserInputError("the runs report no pass@k; choose one with --k")
    scores = []
    for r in runs:
        for k in use_ks:
            for lang in _scopes(r):
                v = r.exact_pass_at_k(k, lang)
                scores.append(Score(r.name, k, lang or OVERALL, float(v), f"{v.numerator}/{v.denominator}",
                                    len(r.select(lang))))  # fmt: skip
    base = runs[0]
    pairs = []
    for cand in runs[1:]:
        diffs = tuple(
            difference(base, cand, k, lang, confidence=confidence, seed=seed, resamples=resamples)
            for k in use_ks for lang in _scopes(base)
        )  # fmt: skip
        gained, lost = flips(base, cand)
        pairs.append(PairComparison(base.name, cand.name, diffs, gained, lost))
    notes = sandbox_notes + tuple(
        f"{r.name}: {r.infra_errors} samples could not be judged (sandbox failures count as failures here)"
        for r in runs if r.infra_errors
    )  # fmt: skip
    return Comparison(
        tuple(r.name for r in runs), dict(base.problem_set), use_ks, tuple(base.languages), tuple(scores),
        tuple(pairs), confidence, seed, resamples, notes=notes,
        models={r.name: dict(r.model) if r.model else None for r in runs},
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- gate


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    metric: str
    scope: str
    max_drop: float
    confidence: float
    difference: Difference
    verdict: str  # one line a release manager can read
    rule: str = "pass iff the one-sided lower confidence bound of (candidate - baseline) >= -max_drop"
    notes: tuple[str, ...] = ()


def gate(
    baseline: Run, candidate: Run, max_drop: float, *, metric: str = "pass@1", language: str | None = None,
    confidence: float = 0.95, seed: int = 0, resamples: int = DEFAULT_RESAMPLES, allow_mixed_sandboxes: bool = False,
) -> GateDecision:  # fmt: skip
    """Decide whether ``candidate`` may replace ``baseline``: a non-inferiority test.

    Rule: with d = candidate - baseline pass@k (paired over problems) and L its one-sided lower
    confidence bound at level ``confidence`` (the (1 - confidence) quantile of the paired bootstrap),
    the gate passes iff ``L >= -max_drop``: we are ``confidence`` sure the candidate loses at most
    ``max_drop`` (a fraction: 0.01 = one point). Otherwise it fails.

    Why this way round: a release gate vouches for the candidate, so the burden of proof is on the
    candidate. The opposite rule ("fail only when sure the drop exceeds max_drop") lets any
    regression through when the evaluation is too small to be sure of anything. Consequences:
    identical runs always pass (every d_i is 0, so L = 0 >= -max_drop for any max_drop >= 0); a
    clear regression always fails; an evaluation too noisy to bound the drop fails too, and the
    verdict says so ("inconclusive") and that more problems or samples would settle it.
    """
    check_confidence(confidence)
    if not max_drop >= 0:
        raise UserInputError(f"--max-drop must be a non-negative fraction (0.01 = one point), got {max_drop}")
    if max_drop >= 1:
        raise UserInputError(f"--max-drop is a fraction of 1 (0.01 = one point), got {max_drop}")
    k = parse_metric(metric)
    notes = check_same_sandbox([baseline, candidate], allow_mixed_sandboxes)
    if language is not None and language not in baseline.languages:
        raise UserInputError(
            f"language {language!r} is not in the runs (they have: {', '.join(baseline.languages)})"
        )
    d = difference(baseline, candidate, k, language, confidence=confidence, seed=seed, resamples=resamples)
    iv = d.interval
    passed = bool(iv.lower_bound >= -max_drop)
    scope = language or OVERALL
    sure = f"with {level(confidence)} confidence"
    head = (f"{metric} ({scope}) {change(d.baseline_value, d.candidate_value, iv.estimate)}; "
            f"{level(confidence)} one-sided lower bound {pts(iv.lower_bound)}")  # fmt: skip
    allowed = amount(max_drop)
    if passed:
        verdict = f"PASS: {head}: {sure} the candidate drops by at most {allowed}"
    elif iv.upper_bound < -max_drop:
        verdict = f"FAIL (regression): {head}: {sure} the candidate drops by more than {allowed}"
    else:
        verdict = (f"FAIL (inconclusive): {head}: a drop of more than {allowed} cannot be ruled out at "
                   f"{level(confidence)} confidence; more problems or samples would narrow the interval")  # fmt: skip
    return GateDecision(passed, metric, scope, max_drop, confidence, d, verdict, notes=notes)
