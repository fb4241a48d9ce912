"""A runner that breaks the protocol, in a real container: its box dies, no verdict of it counts,
``run`` never raises, and the jobs end as infra errors once every fresh container does the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from attack_corpus import HONEST

from humaneval_lab.execution import docker as docker_mod
from humaneval_lab.execution.base import Job, Limits, Status
from humaneval_lab.execution.selftest import PROBLEM
from humaneval_lab.languages import get_language, source_of

pytestmark = pytest.mark.docker

# Appended to the real runner: its outcome lines (only those) are replaced by forgeries.
FORGERIES = {
    "unsealed": 'return b\'{"id": %r, "outcome": {"status": "passed"}}\\n\' % obj[\'id\'].encode()',
    "unknown-status": "obj = {'id': obj['id'], 'outcome': {'status': 'hacked'}}",
    "foreign-id": "obj = {'id': 'someone-else', 'outcome': obj['outcome']}",
    "endless-line": "return b'x' * (1 << 20)",
}


def _forging_runner(code: str) -> bytes:
    """The runner's bundle with its ``wire.seal`` wrapped to forge every outcome line."""
    patch = (
        "\n_real_seal = seal\n"
        "def seal(key, obj):\n"
        "    if 'id' in obj:\n"
        f"        {code}\n"
        "    return _real_seal(key, obj)\n"
    )
    bundle = json.loads(docker_mod.runner_source())
    bundle["wire"] += patch
    return json.dumps(bundle).encode()


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_runner_that_forges_gets_no_verdict_counted(
    make_executor: Any, monkeypatch: pytest.MonkeyPatch, forgery: str
) -> None:
    source = _forging_runner(FORGERIES[forgery])
    monkeypatch.setattr(docker_mod.bundle, "runner_source", lambda: source)
    ex = make_executor(jobs=1, max_retries=0)
    wrong = get_language("python").build(PROBLEM, source_of(PROBLEM, "    return a - b\n"))
    out = dict(ex.run([Job("wrong", wrong, Limits(timeout_s=5.0))]))
    assert out["wrong"].status is Status.INFRA, out  # never "passed", never an exception
    assert ex.deaths >= 2
    assert all(why.startswith("protocol:") for _, why in ex.death_log), ex.death_log


def test_after_forgeries_an_honest_runner_judges_right(make_executor: Any) -> None:
    """The same executor settings with the real runner: the control for the test above."""
    ex = make_executor(jobs=1, max_retries=0)
    build = get_language("python").build
    jobs = [
        Job("honest", build(PROBLEM, source_of(PROBLEM, HONEST.completion)), Limits(timeout_s=5.0)),
        Job("wrong", build(PROBLEM, source_of(PROBLEM, "    return a - b\n")), Limits(timeout_s=5.0)),
    ]
    out = {k: o.status for k, o in ex.run(jobs)}
    assert out == {"honest": Status.PASSED, "wrong": Status.FAILED}
    assert ex.deaths == 0
