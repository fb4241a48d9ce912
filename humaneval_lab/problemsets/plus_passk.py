"""The two numbers EvalPlus papers quote: pass@k on the base inputs and on base + plus inputs.

A sample of an EvalPlus problem is judged in one job: every base input, then every plus input, the
first failure ending it (``languages/harness/hel_evalplus.py``). So it passed base+plus when its
verdict is ``passed``, and it passed base when it passed or when the input that failed first was a
plus input, which the trusted judge names as the reason's start (``EvalPlusAssertionError: plus
input #i of n: ...``). A sample that timed out, ran out of memory or crashed is not read further:
it counts as failing base too (EvalPlus runs base and plus in separate processes and would count
such a sample's base run on its own; see docs/suites.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from humaneval_lab.execution.base import Outcome, Status
from humaneval_lab.passk import Counts, mean_pass_at_k
from humaneval_lab.problems import Problem

_FIRST = re.compile(r"EvalPlusAssertionError: (base|plus) input #(\d+) ")


def first_failure(o: Outcome) -> str | None:
    """``"base#i"``/``"plus#i"``: the input a failed sample failed first; None when it passed or
    failed otherwise (load error, timeout of the whole job, crash)."""
    if o.status is not Status.FAILED:
        return None
    m = _FIRST.match(o.reason)
    return f"{m.group(1)}#{m.group(2)}" if m else None


def passed_base(o: Outcome) -> bool:
    return o.passed or (first_failure(o) or "").startswith("plus#")


def summarize(
    task_ids: Sequence[str], outcomes: Sequence[Outcome], problems: Sequence[Problem], ks: Sequence[int]
) -> dict[str, Any] | None:
    """{"pass@k_base", "pass@k_base_exact", "pass@k_plus", "pass@k_plus_exact", "problems": {task:
    {"n", "c_base", "c_plus", "first_failures"}}} over the EvalPlus problems; None if there are none."""
    plus = {p.task_id for p in problems if p.source_format == "evalplus"}
    if not plus:
        return None
    n: Counter[str] = Counter()
    c_base: Counter[str] = Counter()
    c_plus: Counter[str] = Counter()
    firsts: dict[str, Counter[str]] = {t: Counter() for t in plus}
    for t, o in zip(task_ids, outcomes, strict=True):
        if t not in plus:
            continue
        n[t] += 1
        c_base[t] += passed_base(o)
        c_plus[t] += o.passed
        where = first_failure(o)
        if not o.passed:
            firsts[t][where or o.status.value] += 1
    ids = sorted(plus, key=lambda t: [p.task_id for p in problems].index(t))
    out: dict[str, Any] = {}
    for name, c in (("base", c_base), ("plus", c_plus)):
        exact = {f"pass@{k}": mean_pass_at_k((Counts(n[t], c[t]) for t in ids), k) for k in ks}
        out[f"pass@k_{name}"] = {k: float(v) for k, v in exact.items()}
        out[f"pass@k_{name}_exact"] = {k: f"{v.numerator}/{v.denominator}" for k, v in exact.items()}
    out["problems"] = {
        t: {"n": n[t], "c_base": c_base[t], "c_plus": c_plus[t], "first_failures": dict(firsts[t])}
        for t in ids
    }
    return out


def columns(evalplus: Any, ks: Sequence[int]) -> dict[str, tuple[float, float]]:
    """A run's two EvalPlus numbers for reports: {"pass@k": (base, base+plus)} for each k in ``ks``,
    from a summary.json ``evalplus`` entry. Computed again from its per-problem counts (n, c_base,
    c_plus), never taken from its stored floats; {} when the run has no such entry or it is malformed
    (counts that are not 0 <= c_plus <= c_base <= n, or k over a problem's n)."""
    rows = evalplus.get("problems") if isinstance(evalplus, dict) else None
    if not isinstance(rows, dict) or not rows:
        return {}
    base: list[Counts] = []
    plus: list[Counts] = []
    for row in rows.values():
        try:
            n, cb, cp = (row[key] for key in ("n", "c_base", "c_plus"))
        except (TypeError, KeyError):
            return {}
        if not all(type(v) is int for v in (n, cb, cp)) or not 0 <= cp <= cb <= n or n < 1:
            return {}
        base.append(Counts(n, cb))
        plus.append(Counts(n, cp))
    small = min(c.n for c in base)
    return {
        f"pass@{k}": (float(mean_pass_at_k(base, k)), float(mean_pass_at_k(plus, k)))
        for k in ks
        if k <= small
    }
