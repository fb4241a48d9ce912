"""The warm Java compiler (sandbox/runner/javac.py) through the real sandbox.

Same verdicts as plain ``javac`` per job; a sample cannot reach the server (another uid, pipes only
the runner holds); a server killed or hung costs at most the job in flight, and the next compiles.
Which compiler served a job is observed from the host: the server's CPU time grows when it compiles.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from compile_servers import cpu_ticks, servers, signal_servers, verdicts
from conftest import DATASETS, judged_once

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, read_problem_file

pytestmark = pytest.mark.docker

RIGHT = (
    "        for (int i = 0; i < numbers.size(); i++)\n"
    "            for (int j = i + 1; j < numbers.size(); j++)\n"
    "                if (Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
    "        return false;\n    }\n}\n"
)
WRONG = "        return false;\n    }\n}\n"
# Compile errors of three kinds javac words differently: the text must be javac's, line for line.
BROKEN = {
    "syntax": "        return false\n    }\n}\n",
    "type": '        return "yes";\n    }\n}\n',
    "symbol": "        return Foo.bar(numbers);\n    }\n}\n",
    "unknown-import": "        return false;\n    }\n}\nclass X { java.util.Lisst<Integer> l; }\n",
}
# Everything a sample might try against the server: find its process (uid 10002), open its pipes
# through /proc, read its memory and environment, ptrace it (from a python3 child), kill it (Java's
# own API and kill(1)). Any success fails the sample ("reached"); so does not seeing the server.
ATTACK = (
    r"""        if (!done) { done = true; attack(); }
"""
    + RIGHT.rsplit("}\n", 1)[0]
    + r"""    static boolean done = false;
    static void attack() {
        java.util.List<String> reached = new java.util.ArrayList<>();
        int seen = 0;
        java.io.File[] procs = new java.io.File("/proc").listFiles();
        for (java.io.File p : procs) {
            String pid = p.getName();
            if (!pid.matches("[0-9]+")) continue;
            String status;
            try { status = new String(java.nio.file.Files.readAllBytes(new java.io.File(p, "status").toPath())); }
            catch (Exception e) { continue; }
            if (!status.matches("(?s).*\nUid:\\s+10002\\s.*")) continue;
            seen++;
            for (String f : new String[] {"fd/0", "fd/1", "fd/2", "mem", "environ", "maps", "cmdline"}) {
                try (java.io.FileInputStream in = new java.io.FileInputStream(new java.io.File(p, f))) {
                    in.read(); if (!f.equals("cmdline")) reached.add("read " + f);
                } catch (Exception e) { }
            }
            for (String f : new String[] {"fd/0", "fd/1", "mem"}) {
                try (java.io.FileOutputStream out = new java.io.FileOutputStream(new java.io.File(p, f))) {
                    out.write(0); reached.add("write " + f);
                } catch (Exception e) { }
            }
            String[] fds = new java.io.File(p, "fd").list();
            if (fds != null) reached.add("listed fds");
            try {
                if (ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::destroyForcibly).orElse(false)) {
                    Thread.sleep(200);
                    if (new java.io.File(p, "status").exists()) { } else reached.add("destroyed");
                }
            } catch (Exception e) { }
            for (String[] cmd : new String[][] {
                    {"kill", "-9", pid}, {"kill", "-STOP", pid},
                    {"python3", "-c", "import ctypes,sys; l=ctypes.CDLL(None, use_errno=True); "
                        + "sys.exit(0 if l.ptrace(16, " + pid + ", 0, 0) == 0 else 1)"}}) {
                try {
                    Process k = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                    k.getInputStream().readAllBytes();
                    if (k.waitFor() == 0) reached.add(String.join(" ", cmd));
                } catch (Exception e) { }
            }
        }
        if (seen == 0) throw new RuntimeException("no compile server seen");
        if (!reached.isEmpty()) throw new RuntimeException("reached the compile server: " + reached);
    }
}
"""
)


def _problem() -> Problem:
    return read_problem_file(DATASETS / "humaneval-x" / "humaneval_java.jsonl.gz")[0]


def _job(job_id: str, body: str, timeout_s: float = 60.0) -> Job:
    problem = _problem()
    return Job(
        job_id, get_language("java").build(problem, source_of(problem, body)), Limits(timeout_s=timeout_s)
    )


def test_same_verdicts_as_plain_javac_and_the_server_compiles_them(make_executor: Any) -> None:
    jobs = [_job("right", RIGHT), _job("wrong", WRONG)] + [_job(k, v) for k, v in BROKEN.items()]
    plain = make_executor(jobs=1, java_compile_server=False)
    want = verdicts(plain, jobs)
    assert servers(plain) == []
    assert want["right"][0] == "passed" and want["wrong"][0] == "failed"
    for name in BROKEN:
        assert want[name][:2] == ("error", "compile error") and "error:" in want[name][2], want[name]

    warm = make_executor(jobs=1)
    judged_once(warm, [_job("first", RIGHT)])  # the worker's first Java job waits for the server's start
    (server,) = servers(warm)
    before = cpu_ticks(server)
    assert verdicts(warm, jobs) == want
    assert servers(warm) == [server] and cpu_ticks(server) > before  # it compiled them


def test_a_sample_cannot_reach_the_server(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job("first", RIGHT)])["first"].passed
    (server,) = servers(ex)
    got = judged_once(ex, [_job("attack", ATTACK), _job("after", RIGHT), _job("wrong", WRONG)])
    assert got["attack"].status.value == "passed", got[
        "attack"
    ].stderr_tail  # it saw the server, reached nothing
    assert got["after"].passed and got["wrong"].status.value == "failed"
    before = cpu_ticks(server)
    assert judged_once(ex, [_job("later", RIGHT)])["later"].passed
    assert servers(ex) == [server] and cpu_ticks(server) > before  # the same server, still compiling


def test_a_killed_server_costs_nothing_and_the_next_job_compiles(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job("first", RIGHT)])["first"].passed
    (old,) = servers(ex)
    signal_servers(ex, "SIGKILL")
    got = judged_once(ex, [_job("next", RIGHT), _job("wrong", WRONG), _job("broken", BROKEN["syntax"])])
    assert got["next"].passed and got["wrong"].status.value == "failed"
    assert got["broken"].status.value == "error" and "error:" in got["broken"].stderr_tail
    (new,) = servers(ex)
    assert new != old
    before = cpu_ticks(new)
    assert judged_once(ex, [_job("later", RIGHT)])["later"].passed
    assert cpu_ticks(new) > before


def test_a_hung_server_costs_only_the_job_in_flight(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert judged_once(ex, [_job("first", RIGHT)])["first"].passed
    (old,) = servers(ex)
    first_box = ex.container_ids[0]
    signal_servers(ex, "SIGSTOP")  # it reads no request and answers nothing: the job's deadline ends it
    start = time.monotonic()
    hung = judged_once(ex, [_job("hung", RIGHT, timeout_s=10.0)])["hung"]
    # Its wall timeout used almost no CPU, so the scheduler judged it again alone, in a box of its
    # own (as any starved wall timeout): the hung compiler does not cost a right sample its pass.
    assert hung.passed, (hung.status, hung.reason)
    assert time.monotonic() - start < 60
    assert old not in servers(ex)  # killed at the deadline
    assert first_box in ex.container_ids  # the hang did not cost the worker its container
    got = judged_once(ex, [_job("next", RIGHT), _job("wrong", WRONG)])
    assert got["next"].passed and got["wrong"].status.value == "failed"
    (new,) = servers(ex)
    assert new != old
