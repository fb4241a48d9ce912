"""The warm JS/TS judge (sandbox/runner/nodejudge.py) and Node's startup snapshot (nodestart.py)
through the real sandbox.

Same verdicts, word for word, as the cold judge per job (``javascript_judge_server=False,
node_snapshot=False``: the judging before either existed) on HumanEval-X's JavaScript canonical
solutions and wrong ones, MultiPL-E's TypeScript, and the JavaScript attack corpus; a sample cannot
reach the warm judge (its own uid, FIFOs only it may open) nor the snapshot; a judge killed or hung
costs at most the job in flight; tests that leave something behind in the judge get the next job a
fresh one. Which judge served a job is observed from the host: the warm judge's CPU time grows.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from compile_servers import cpu_ticks, processes_of_uid, signal_uid
from conftest import DATASETS, judged_once
from test_attacks_javascript import ATTACKS, JS_PROBLEM, RIGHT, WRONG

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, read_problem_file
from tests.datasets import typescript_problems

pytestmark = pytest.mark.docker

JUDGE_SERVER_UID = 10003  # sandbox/runner/nodejudge.py: no job's, judge's, tester's or compiler's uid
COLD = {"javascript_judge_server": False, "node_snapshot": False}
# Timing decides between two verdicts (see test_attacks_javascript), or between two reasons: whether
# the judge reads the candidate's first line before or after a forged second one arrives (the cold
# judge starts later, so it tends to see both at once).
RACY = {"attack:kill-itself", "attack:ready-twice"}


def judges(ex: Any) -> list[int]:
    """Host pids of the warm judges in the executor's containers."""
    return processes_of_uid(ex, JUDGE_SERVER_UID)


def signal_judges(ex: Any, signal: str) -> None:
    """Send ``signal`` to every process of the judge server's uid, from inside the container (as root)."""
    signal_uid(ex, JUDGE_SERVER_UID, signal)


def _job(problem: Problem, name: str, completion: str, timeout_s: float = 60.0) -> Job:
    program = get_language(problem.language).build(problem, source_of(problem, completion))
    return Job(name, program, Limits(timeout_s=timeout_s))


def _verdicts(ex: Any, jobs: list[Job]) -> dict[str, tuple[str, str]]:
    return {k: (o.status.value, o.reason) for k, o in judged_once(ex, jobs).items()}


def _native(name: str, tests: str) -> Problem:
    return Problem(
        f"judge/{name}", "javascript", "function add(a, b) {\n", tests, "add", source_format="native"
    )


def test_same_verdicts_as_the_cold_judge_and_the_warm_judge_gives_them(make_executor: Any) -> None:
    js = read_problem_file(DATASETS / "humaneval-x" / "humaneval_js.jsonl.gz")[::8]
    ts = typescript_problems()[::16]
    jobs = [_job(p, p.task_id, p.canonical_solution or "") for p in js + ts]
    jobs += [_job(p, p.task_id + "#wrong", "  return undefined;\n}\n") for p in js + ts]
    jobs += [_job(JS_PROBLEM, f"attack:{a.name}", a.completion, a.timeout_s) for a in ATTACKS]
    want = _verdicts(make_executor(jobs=1, **COLD), jobs)
    # JavaScript/112's canonical fails its own test (docs/languages.md); some JS bodies are not
    # valid TS (see test_tsc_server).
    assert [p.task_id for p in js if want[p.task_id][0] != "passed"] == ["JavaScript/112"], want
    assert sum(want[p.task_id][0] == "passed" for p in ts) >= len(ts) * 3 // 4, want
    assert all(want[p.task_id + "#wrong"][0] in ("failed", "error") for p in js + ts)

    warm = make_executor(jobs=1)
    assert judged_once(warm, [_job(JS_PROBLEM, "first", RIGHT)])["first"].passed
    (judge,) = judges(warm)
    before = cpu_ticks(judge)
    got = _verdicts(warm, jobs)
    assert {k: v for k, v in got.items() if k not in RACY} == {k: v for k, v in want.items() if k not in RACY}
    assert got["attack:kill-itself"][0] in ("crashed", "error")
    assert got["attack:ready-twice"][0] == "error" and "protocol" in got["attack:ready-twice"][1]
    assert judges(warm) == [judge] and cpu_ticks(judge) > before  # one judge judged them all


# Everything a sample might try against the warm judge and the snapshot: find the judge's process
# (its uid), open its pipes through /proc, read its memory and environment, write to it, list its
# fds, signal or ptrace it; open the job's FIFOs; write or replace the snapshot. Any success fails
# the sample ("reached"); so does not seeing the judge, or Node not started from the snapshot.
REACH = (
    r"""  const fs = require('fs');
  const cp = require('child_process');
  const reached = [];
  let seen = 0;
  let fifos = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
    let status = '';
    try { status = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch (e) { continue; }
    if (!/\nUid:\s+10003\s/.test(status)) continue;
    seen++;
    for (const f of ['fd/0', 'fd/1', 'fd/3', 'fd/4', 'fd/5', 'mem', 'environ', 'maps']) {
      try { fs.readFileSync(`/proc/${pid}/${f}`); reached.push('read ' + f); } catch (e) { }
    }
    for (const f of ['fd/0', 'fd/1', 'mem']) {
      try { fs.writeFileSync(`/proc/${pid}/${f}`, 'x'); reached.push('write ' + f); } catch (e) { }
    }
    try { fs.readdirSync(`/proc/${pid}/fd`); reached.push('listed fds'); } catch (e) { }
    for (const sig of ['SIGKILL', 'SIGSTOP', 'SIGUSR1']) {
      try { process.kill(Number(pid), sig); reached.push('signal ' + sig); } catch (e) { }
    }
    try { process._debugProcess(Number(pid)); reached.push('debug'); } catch (e) { }
    for (const cmd of [['kill', '-9', pid], ['python3', '-c',
        'import ctypes,sys; l=ctypes.CDLL(None, use_errno=True); sys.exit(0 if l.ptrace(16, ' + pid + ', 0, 0) == 0 else 1)']]) {
      if (cp.spawnSync(cmd[0], cmd.slice(1)).status === 0) reached.push(cmd.join(' '));
    }
  }
  for (const home of fs.readdirSync('/work').filter((d) => d.startsWith('.hel-node-judge-'))) {
    for (const f of fs.readdirSync('/work/' + home)) {
      const p = `/work/${home}/${f}`;
      if (!fs.lstatSync(p).isFIFO()) continue; // the judge's own sources: public, root's, read-only
      fifos++;
      for (const flags of [fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK]) {
        try { fs.closeSync(fs.openSync(p, flags)); reached.push('opened ' + f); } catch (e) { }
      }
    }
    try { fs.writeFileSync(`/work/${home}/x`, 'x'); reached.push('wrote in the judge home'); } catch (e) { }
  }
  const blob = '/work/.hel-node/snapshot.blob';
  try { fs.appendFileSync(blob, 'x'); reached.push('wrote the snapshot'); } catch (e) { }
  try { fs.renameSync(blob, blob + '.x'); reached.push('moved the snapshot'); } catch (e) { }
  try { fs.writeFileSync('/work/.hel-node/y', 'x'); reached.push('wrote beside the snapshot'); } catch (e) { }
  if (fs.statSync(blob).uid !== 0 || !process.execArgv.includes(blob)) reached.push('no root-owned snapshot in use');
  if (seen === 0) throw new Error('no warm judge seen');
  if (fifos < 2) throw new Error("no FIFO of this job's seen");
  if (reached.length) throw new Error('reached the judge: ' + reached.join(', '));
"""
    + RIGHT
)


def test_a_sample_cannot_reach_the_warm_judge_or_the_snapshot(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job(JS_PROBLEM, "first", RIGHT)])["first"].passed
    (judge,) = judges(ex)
    got = judged_once(
        ex,
        [
            _job(JS_PROBLEM, "reach", REACH),
            _job(JS_PROBLEM, "after", RIGHT),
            _job(JS_PROBLEM, "wrong", WRONG),
        ],
    )
    assert got["reach"].passed, (got["reach"].reason, got["reach"].stderr_tail)
    assert got["after"].passed and got["wrong"].status.value == "failed"
    assert judges(ex) == [judge]  # the same judge, untouched


def test_a_killed_judge_costs_nothing_and_the_next_job_is_judged_warm(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job(JS_PROBLEM, "first", RIGHT)])["first"].passed
    (old,) = judges(ex)
    signal_judges(ex, "SIGKILL")
    got = judged_once(ex, [_job(JS_PROBLEM, "next", RIGHT), _job(JS_PROBLEM, "wrong", WRONG)])
    assert got["next"].passed and got["wrong"].status.value == "failed"
    assert "add(2, 3)" in got["wrong"].reason
    (new,) = judges(ex)
    assert new != old
    before = cpu_ticks(new)
    # A warm job costs the judge a few ms, under the clock tick of its CPU time: a few of them.
    got = judged_once(ex, [_job(JS_PROBLEM, f"later{i}", RIGHT) for i in range(20)])
    assert all(o.passed for o in got.values())
    assert judges(ex) == [new] and cpu_ticks(new) > before


def test_a_judge_killed_mid_job_has_the_job_judged_again_cold(make_executor: Any) -> None:
    # Tests that take ~4 s of the judge's own time before their first call: the kill lands inside.
    slow = _native(
        "slow",
        "const t = Date.now(); while (Date.now() - t < 4000) {}\nrequire('assert').strictEqual(add(2, 3), 5);\n",
    )
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job(JS_PROBLEM, "first", RIGHT)])["first"].passed
    (old,) = judges(ex)
    killer = threading.Timer(1.5, signal_judges, (ex, "SIGKILL"))
    killer.start()
    try:
        got = judged_once(ex, [_job(slow, "right", RIGHT, 60.0)])
    finally:
        killer.join()
    assert got["right"].passed, (got["right"].status, got["right"].reason)
    got = judged_once(ex, [_job(slow, "wrong", WRONG, 60.0)])
    assert got["wrong"].status.value == "failed", got["wrong"].reason
    assert old not in judges(ex) and len(judges(ex)) == 1


def test_a_hung_judge_costs_only_the_job_in_flight(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job(JS_PROBLEM, "first", RIGHT)])["first"].passed
    (old,) = judges(ex)
    first_box = ex.container_ids[0]
    signal_judges(ex, "SIGSTOP")  # it takes no job and answers nothing: the job's deadline ends it
    start = time.monotonic()
    hung = judged_once(ex, [_job(JS_PROBLEM, "hung", RIGHT, timeout_s=10.0)])["hung"]
    # Its wall timeout used almost no CPU of the job's, so it was judged again alone: the hung
    # judge does not cost a right sample its pass.
    assert hung.passed, (hung.status, hung.reason)
    assert time.monotonic() - start < 120
    assert old not in judges(ex)  # killed at the deadline
    assert first_box in ex.container_ids
    got = judged_once(ex, [_job(JS_PROBLEM, "next", RIGHT), _job(JS_PROBLEM, "wrong", WRONG)])
    assert got["next"].passed and got["wrong"].status.value == "failed"
    assert len(judges(ex)) == 1 and old not in judges(ex)


LEAKS = {
    "global": "globalThis.helLeak = 1;\n",
    "sloppy-global": "(function () { helSloppy = 1; })();\n",
    "prototype": "Array.prototype.helLeak = 1;\n",
    "replaced-builtin": "Math.max = () => 0;\n",
    "assert-module": "require('assert').helLeak = 1;\n",
}
# Sees any of the leaks above: passes only in a judge none of them reached.
CLEAN = (
    "const assert = require('assert');\n"
    "assert.strictEqual(typeof globalThis.helLeak, 'undefined');\n"
    "assert.strictEqual(typeof globalThis.helSloppy, 'undefined');\n"
    "assert.strictEqual([].helLeak, undefined);\n"
    "assert.strictEqual(Math.max(1, 2), 2);\n"
    "assert.strictEqual(assert.helLeak, undefined);\n"
    "assert.strictEqual(add(2, 3), 5);\n"
)


def test_tests_that_leave_something_behind_get_the_next_job_a_fresh_judge(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    clean = _native("clean", CLEAN)
    assert judged_once(ex, [_job(clean, "first", RIGHT)])["first"].passed
    (judge,) = judges(ex)
    for name, leak in LEAKS.items():
        leaky = _native(name, leak + "require('assert').strictEqual(add(2, 3), 5);\n")
        got = judged_once(ex, [_job(leaky, "leak", RIGHT), _job(clean, "after", RIGHT)])
        assert got["leak"].passed, (name, got["leak"].reason)
        assert got["after"].passed, (name, got["after"].reason)
        (now,) = judges(ex)
        assert now != judge, name  # the leaky job's judge was not kept
        judge = now
    assert judged_once(ex, [_job(clean, "again", RIGHT)])["again"].passed
    assert judges(ex) == [judge]  # a job that leaves nothing keeps its judge


def test_tests_that_catch_what_ended_the_judging_cannot_change_the_verdict(make_executor: Any) -> None:
    catching = _native(
        "catching",
        "for (let i = 0; i < 3; i++) { try { add(2, 3); } catch (e) {} }\n",
    )
    cases = {
        "garbage": "  require('fs').writeSync(4, 'not json\\n');\n  return a + b;\n}\n",
        "gone": "  process.exit(0);\n}\n",
        "raises": "  throw new TypeError('no');\n}\n",
        "right": RIGHT,
    }
    jobs = [_job(catching, name, completion) for name, completion in cases.items()]
    want = _verdicts(make_executor(jobs=1, **COLD), jobs)
    assert want["garbage"][0] == "error" and want["gone"][0] == "error"
    assert want["raises"][0] == "passed" and want["right"][0] == "passed"  # the tests caught it
    assert _verdicts(make_executor(jobs=1), jobs) == want
