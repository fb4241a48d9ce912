"""The warm TypeScript compiler (sandbox/runner/tsc.py) through the real sandbox.

Same verdicts, word for word, as plain ``tsc`` per job, on MultiPL-E's TS problems completed by
HumanEval-X's JavaScript canonical bodies and on deliberately broken variants; a sample cannot reach
the server (another uid, pipes only the runner holds); a server killed or hung costs at most the job
in flight, and the next compiles. Which compiler served a job is observed from the host: the
server's CPU time grows when it compiles.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from compile_servers import cpu_ticks, servers, signal_servers, verdicts
from conftest import DATASETS, judged_once

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, read_problem_file
from tests.datasets import typescript_problems

pytestmark = pytest.mark.docker


RIGHT = (
    "  for (let i = 0; i < numbers.length; i++)\n"
    "    for (let j = i + 1; j < numbers.length; j++)\n"
    "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
    "  return false;\n}\n"
)
WRONG = "  return false;\n}\n"
# Broken the ways tsc words differently: each must fail with tsc's text, line for line.
BROKEN = {
    "type": '  return "yes";\n}\n',
    "syntax": "  return false)\n}\n",
    "symbol": "  return helMissing(numbers);\n}\n",
    "import": "  return false;\n}\nimport { x } from './nowhere';\n",
    # After a sample added a member to a lib type (below), the next one must not see it.
    "after-augment": "  return [].helExtra === 1;\n}\n",
}
# Compile with tsc and then fail the tests: no stricter option than tsc's, the lib kept as it is.
COMPILES = {
    "augment": "  return [].helExtra === 1;\n}\ninterface Array<T> { helExtra: number }\n",
    "lib-reference": '  return false;\n}\n/// <reference path="/usr/share/nodejs/typescript/lib/lib.es5.d.ts" />\n',
    "not-strict": "  let x;\n  x = numbers;\n  return x.length > threshold;\n}\nfunction g(a) { return a; }\n",
}
# Everything a sample might try against the server: find its process (uid 10002), open its pipes
# through /proc, read its memory and environment, write to it, ptrace it (from a python3 child) and
# kill or stop it. Any success fails the sample ("reached"); so does not seeing the server.
ATTACK = (
    r"""  const fs = require('fs');
  const cp = require('child_process');
  const proc = require('process');
  const reached: string[] = [];
  let seen = 0;
  for (const pid of fs.readdirSync('/proc').filter((p: string) => /^[0-9]+$/.test(p))) {
    let status = '';
    try { status = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch (e) { continue; }
    if (!/\nUid:\s+10002\s/.test(status)) continue;
    seen++;
    for (const f of ['fd/0', 'fd/1', 'fd/2', 'mem', 'environ', 'maps', 'cmdline']) {
      try { fs.readFileSync(`/proc/${pid}/${f}`); if (f !== 'cmdline') reached.push('read ' + f); } catch (e) { }
    }
    for (const f of ['fd/0', 'fd/1', 'mem']) {
      try { fs.writeFileSync(`/proc/${pid}/${f}`, 'x'); reached.push('write ' + f); } catch (e) { }
    }
    try { fs.readdirSync(`/proc/${pid}/fd`); reached.push('listed fds'); } catch (e) { }
    for (const sig of ['SIGKILL', 'SIGSTOP']) {
      try { proc.kill(Number(pid), sig); reached.push('signal ' + sig); } catch (e) { }
    }
    for (const cmd of [['kill', '-9', pid], ['python3', '-c',
        'import ctypes,sys; l=ctypes.CDLL(None, use_errno=True); sys.exit(0 if l.ptrace(16, ' + pid + ', 0, 0) == 0 else 1)']]) {
      if (cp.spawnSync(cmd[0], cmd.slice(1)).status === 0) reached.push(cmd.join(' '));
    }
  }
  if (seen === 0) throw new Error('no compile server seen');
  if (reached.length) throw new Error('reached the compile server: ' + reached.join(', '));
"""
    + RIGHT
)


def _job(job_id: str, problem: Problem, body: str, timeout_s: float = 60.0) -> Job:
    program = get_language("typescript").build(problem, source_of(problem, body))
    return Job(job_id, program, Limits(timeout_s=timeout_s))


def _first() -> Problem:
    return typescript_problems()[0]


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _tsc_servers(ex: Any) -> list[int]:
    return [p for p in servers(ex) if "server.js" in _cmdline(p)]


@pytest.mark.parametrize(
    "stride",
    [pytest.param(8, id="every-8th"), pytest.param(1, id="all", marks=[pytest.mark.exhaustive])],
)
def test_same_verdicts_as_plain_tsc_and_the_server_compiles_them(make_executor: Any, stride: int) -> None:
    problems = typescript_problems()[::stride]
    first = problems[0]
    jobs = [_job(p.task_id, p, p.canonical_solution or "") for p in problems]
    jobs += [_job(k, first, v) for k, v in {**COMPILES, **BROKEN}.items()] + [_job("wrong", first, WRONG)]
    plain = make_executor(jobs=1, typescript_compile_server=False)
    want = verdicts(plain, jobs)
    assert servers(plain) == []
    assert sum(v[0] == "passed" for v in want.values()) >= len(problems) * 3 // 4, want
    for name in ("wrong", *COMPILES):
        assert want[name][0] == "failed", want[name]
    for name in BROKEN:
        assert want[name][:2] == ("error", "compile error") and "error TS" in want[name][2], want[name]

    warm = make_executor(jobs=1)
    judged_once(warm, [_job("first", first, RIGHT)])  # the worker's first TS job waits for the server's start
    (server,) = servers(warm)
    before = cpu_ticks(server)
    assert verdicts(warm, jobs) == want
    assert servers(warm) == [server] and cpu_ticks(server) > before  # it compiled them


def test_a_sample_cannot_reach_the_server(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    first = _first()
    assert judged_once(ex, [_job("first", first, RIGHT)])["first"].passed
    (server,) = servers(ex)
    got = judged_once(
        ex, [_job("attack", first, ATTACK), _job("after", first, RIGHT), _job("wrong", first, WRONG)]
    )
    attack = got["attack"]
    assert attack.status.value == "passed", attack.stderr_tail  # it saw the server, reached nothing
    assert got["after"].passed and got["wrong"].status.value == "failed"
    before = cpu_ticks(server)
    assert judged_once(ex, [_job("later", first, RIGHT)])["later"].passed
    assert servers(ex) == [server] and cpu_ticks(server) > before  # the same server, still compiling


def test_a_killed_server_costs_nothing_and_the_next_job_compiles(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    first = _first()
    assert judged_once(ex, [_job("first", first, RIGHT)])["first"].passed
    (old,) = servers(ex)
    signal_servers(ex, "SIGKILL")
    got = judged_once(
        ex, [_job("next", first, RIGHT), _job("wrong", first, WRONG), _job("broken", first, BROKEN["type"])]
    )
    assert got["next"].passed and got["wrong"].status.value == "failed"
    assert got["broken"].status.value == "error" and "error TS2322" in got["broken"].stderr_tail
    (new,) = servers(ex)
    assert new != old
    before = cpu_ticks(new)
    assert judged_once(ex, [_job("later", first, RIGHT)])["later"].passed
    assert cpu_ticks(new) > before


def test_a_hung_server_costs_only_the_job_in_flight(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    first = _first()
    assert judged_once(ex, [_job("first", first, RIGHT)])["first"].passed
    (old,) = servers(ex)
    first_box = ex.container_ids[0]
    signal_servers(ex, "SIGSTOP")  # it reads no request and answers nothing: the job's deadline ends it
    start = time.monotonic()
    hung = judged_once(ex, [_job("hung", first, RIGHT, timeout_s=10.0)])["hung"]
    # Its wall timeout used almost no CPU, so the scheduler judged it again alone, in a box of its
    # own (as any starved wall timeout): the hung compiler does not cost a right sample its pass.
    assert hung.passed, (hung.status, hung.reason)
    assert time.monotonic() - start < 90
    assert old not in servers(ex)  # killed at the deadline
    assert first_box in ex.container_ids  # the hang did not cost the worker its container
    got = judged_once(ex, [_job("next", first, RIGHT), _job("wrong", first, WRONG)])
    assert got["next"].passed and got["wrong"].status.value == "failed"
    (new,) = servers(ex)
    assert new != old


def test_a_worker_keeps_a_java_and_a_typescript_server_side_by_side(make_executor: Any) -> None:
    """Both servers' threads fit the container's pids budget beside a sample's."""
    java = read_problem_file(DATASETS / "humaneval-x" / "humaneval_java.jsonl.gz")[0]
    java_job = Job("java", get_language("java").build(java, source_of(java, java.canonical_solution or "")))
    ex = make_executor(jobs=1, memory_per_worker=1 << 30)
    first = _first()
    got = judged_once(ex, [java_job, _job("ts", first, RIGHT)])
    assert got["java"].passed and got["ts"].passed
    assert len(servers(ex)) == 2 and len(_tsc_servers(ex)) == 1
    both = servers(ex)
    before = [cpu_ticks(p) for p in both]
    got = judged_once(ex, [java_job, _job("ts2", first, RIGHT)])
    assert got["java"].passed and got["ts2"].passed
    assert servers(ex) == both
    assert all(cpu_ticks(p) > b for p, b in zip(both, before, strict=True))  # each compiled its own
