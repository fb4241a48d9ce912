"""``humaneval-lab sandbox check``: known-good, known-bad and hostile samples with known verdicts.

Each case is a completion of one tiny problem (``add(a, b)``) and the verdicts it may get. Several
attacks are written to return the *right* answer only when the attack failed (no network, read-only
root, no planted module): for them ``passed`` is the proof that containment held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from humaneval_lab.execution.base import Executor, Job, Limits, Outcome
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem

PROBLEM = Problem(
    task_id="selftest/add",
    language="python",
    prompt='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    tests=(
        "def check(candidate):\n"
        "    assert candidate(1, 2) == 3\n"
        "    assert candidate(-5, 5) == 0\n"
        "    assert candidate(10**20, 1) == 10**20 + 1\n"
    ),
    entry_point="add",
    canonical_solution="    return a + b\n",
    source_format="human-eval",
)


@dataclass(frozen=True)
class Case:
    name: str
    completion: str
    expect: frozenset[str]
    what: str  # what a right verdict proves

    @classmethod
    def of(cls, name: str, completion: str, expect: Iterable[str], what: str) -> Case:
        return cls(name, completion, frozenset(expect), what)


CASES: tuple[Case, ...] = (
    Case.of("honest", "    return a + b\n", {"passed"}, "a right answer passes"),
    Case.of("wrong", "    return a - b\n", {"failed"}, "a wrong answer fails"),
    Case.of("syntax", "    return a +\n", {"error"}, "a syntax error is an error"),
    Case.of("exit0", "    import sys\n    sys.exit(0)\n", {"failed"}, "sys.exit(0) before the tests is no pass"),
    Case.of("os-exit0", "    return a + b\nimport os\nos._exit(0)\n", {"failed"}, "os._exit(0) at import is no pass"),
    Case.of(
        "always-equal",
        "    class Eq:\n        def __eq__(self, other):\n            return True\n    return Eq()\n",
        {"failed"}, "an object whose __eq__ is always true is no pass",
    ),
    Case.of(
        "patch-assert",
        "    import builtins\n    builtins.AssertionError = type('N', (Exception,), {})\n    return 0\n",
        {"failed"}, "patching AssertionError does not reach the tests",
    ),
    Case.of(
        "frame-walk",
        "    import sys\n    f = sys._getframe()\n    while f is not None:\n"
        "        f.f_globals['check'] = lambda c: None\n        f = f.f_back\n    return 0\n",
        {"failed"}, "walking stack frames finds no harness state",
    ),
    Case.of(
        "loop-ignoring-signals",
        "    import signal\n    for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):\n"
        "        signal.signal(s, signal.SIG_IGN)\n    while True:\n        try:\n            pass\n"
        "        except BaseException:\n            pass\n",
        {"timeout"}, "an infinite loop that ignores signals is killed from outside",
    ),
    Case.of(
        "output-flood",
        "    import sys\n    chunk = 'x' * (1 << 20)\n    for _ in range(1024):\n        sys.stdout.write(chunk)\n"
        "    return a + b\n",
        {"output_limit"}, "1 GiB of output is cut off",
    ),
    Case.of(
        "network",
        "    import socket\n    try:\n        socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "    except OSError:\n        return a + b\n    return 0\n",
        {"passed"}, "there is no network",
    ),
    Case.of(
        "write-root",
        "    try:\n        open('/usr/lib/python3/dist-packages/sitecustomize.py', 'w').write('x')\n"
        "    except OSError:\n        return a + b\n    return 0\n",
        {"passed"}, "the root file system is read-only",
    ),
)


@dataclass(frozen=True)
class CheckResult:
    case: Case
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome.status.value in self.case.expect


def run_selftest(executor: Executor, cases: Iterable[Case] = CASES, timeout_s: float = 5.0) -> list[CheckResult]:
    spec = get_language("python")
    by_id = {c.name: c for c in cases}
    jobs = [
        Job(c.name, spec.build(PROBLEM, source_of(PROBLEM, c.completion)), Limits(timeout_s=timeout_s))
        for c in by_id.values()
    ]
    results = {job_id: CheckResult(by_id[job_id], o) for job_id, o in executor.run(jobs)}
    return [results[name] for name in by_id]
