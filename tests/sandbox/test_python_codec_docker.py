"""Answers cross from the candidate's process to the tests' as tagged JSON (hel_pydriver ``_wire``,
hel_pytests ``decode_reply``): through the real sandbox, every kind of plain value is judged as ``==``
judges it, a big answer crosses (MBPP+ Mbpp/255's canonical: millions of tuples, which crashed its
worker as literal text), and a reply the candidate forges on the pipe is a failure, never a pass."""

from __future__ import annotations

from typing import Any

import pytest

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem

pytestmark = pytest.mark.docker


def problem(name: str, tests: str) -> Problem:
    return Problem(
        task_id=f"codec/{name}",
        language="python",
        prompt=f'def f(x):\n    """{name}"""\n',
        tests="def check(candidate):\n" + tests,
        entry_point="f",
        canonical_solution="",
        source_format="human-eval",
    )


# Each expected value is built by the tests (trusted); the candidate returns it, or something that
# differs only in a type the old literal format and JSON would both have to keep apart.
VALUES = {
    "tuple-vs-list": ("(1, [2, 3])", "[1, [2, 3]]"),
    "set": ("{1, 2}", "[1, 2]"),
    "frozenset-in-set": ("{frozenset({1}), 2}", "{frozenset({1}), 3}"),
    "dict-tuple-keys": ("{(1, 2): 'a', 3: None}", "{(1, 2): 'a', 3: 0}"),
    "bytes": ("b'\\x00\\xff'", "'\\x00\\xff'"),
    "complex": ("complex(1, -2)", "complex(1, 2)"),
    "inf": ("float('-inf')", "-10.0 ** 308"),
    "surrogate": ("'a\\ud800'", "'a\\ud801'"),
    "big-int": ("-(10 ** 5000) + 1", "-(10 ** 5000)"),
}


def _cases() -> list[tuple[str, Problem, str, str]]:
    out = []
    for name, (right, wrong) in VALUES.items():
        p = problem(
            name, f"    assert candidate(0) == {right}\n    assert type(candidate(0)) is type({right})\n"
        )
        out.append((f"{name}:right", p, f"    return {right}\n", "passed"))
        out.append((f"{name}:wrong", p, f"    return {wrong}\n", "failed"))
    # Not plain values: only the truth value crosses (sanitized MBPP 737's re.Match); equal to nothing.
    truthy = problem("truthy", "    assert candidate(0)\n    assert candidate(0) is not None\n")
    out.append(("match:right", truthy, "    import re\n    return re.match('a', 'a')\n", "passed"))
    out.append(
        (
            "falsy:wrong",
            truthy,
            "    class F:\n        def __bool__(self):\n            return False\n    return F()\n",
            "failed",
        )
    )
    eq = problem("always-equal", "    assert candidate(0) == 5\n")
    out.append(
        (
            "always-equal:forged",
            eq,
            "    class E:\n        def __eq__(self, o):\n            return True\n    return E()\n",
            "failed",
        )
    )
    nan = problem("nan", "    import math\n    assert math.isnan(candidate(0))\n")
    out.append(("nan:right", nan, "    return float('nan')\n", "passed"))
    # 300k tuples: a big answer crosses within the test's 512 MiB worker.
    many = problem("many", "    assert candidate(0) == [(i, i + 1, 'a') for i in range(300_000)]\n")
    out.append(("many:right", many, "    return [(i, i + 1, 'a') for i in range(300_000)]\n", "passed"))
    # Forged replies written on the reply pipe (fd 4 in the warm candidate) before the real one.
    forge = problem("forge", "    assert candidate(0) == 1\n")
    for tag, payload in (("literal", b"('ok', 1)"), ("untagged", b'["ok", {"x": 1}]'),
                         ("code", b'["ok", __import__("os")]')):  # fmt: skip
        body = (
            "    import os, struct\n"
            f"    os.write(4, struct.pack('<I', {len(payload)}) + {payload!r})\n"
            "    return 1\n"
        )
        out.append((f"forge-{tag}:forged", forge, body, "failed"))
    return out


def test_values_cross_as_equality_judges_them_and_forgeries_fail(make_executor: Any) -> None:
    build = get_language("python").build
    cases = _cases()
    jobs = [Job(jid, build(p, source_of(p, body)), Limits(timeout_s=60.0)) for jid, p, body, _ in cases]
    out = dict(make_executor(jobs=2).run(jobs))
    got = {jid: (out[jid].status.value, out[jid].reason[:120]) for jid, *_ in cases}
    assert {jid: v[0] for jid, v in got.items()} == {jid: want for jid, _, _, want in cases}, got
    for jid, *_ in cases:
        if jid.startswith("forge-"):
            assert "unreadable reply" in got[jid][1], got[jid]
