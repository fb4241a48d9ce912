"""The runner's limits parsing and its /proc and cgroup readers, on the host (no Docker)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from humaneval_lab.sandbox.runner import limits, proc

from humaneval_lab.execution.base import Job, Limits, Program

REPO = Path(__file__).resolve().parents[2]


def test_parse_reads_what_the_host_sends() -> None:
    sent = Job("j", Program("python", {}, ("true",)), Limits(timeout_s=2.5, cpu_s=7)).to_wire()["limits"]
    lim = limits.parse(json.loads(json.dumps(sent)))
    assert lim._asdict() == dataclasses.asdict(Limits(timeout_s=2.5, cpu_s=7))
    assert set(limits.Limits._fields) == {f.name for f in dataclasses.fields(Limits)}  # one shape, both ends


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timeout_s": 0}, "timeout_s must be positive"),
        ({"timeout_s": float("nan")}, "timeout_s must be positive"),
        ({"timeout_s": "soon"}, "could not convert|bad limits"),
        ({"cpu_s": -1}, "cpu_s must be a non-negative integer"),
        ({"output_bytes": 1.5}, "output_bytes must be a non-negative integer"),
        ({"open_files": True}, "open_files must be a non-negative integer"),
        ({"file_size_bytes": None}, "file_size_bytes must be"),
    ],
)
def test_parse_refuses_bad_limits(change: dict[str, Any], message: str) -> None:
    good = dataclasses.asdict(Limits())
    with pytest.raises(ValueError, match=message):
        limits.parse({**good, **change})


def test_parse_refuses_a_missing_limit_and_defaults_the_address_space() -> None:
    good = dataclasses.asdict(Limits())
    del good["cpu_s"]
    with pytest.raises(ValueError, match="cpu_s"):
        limits.parse(good)
    rest = dataclasses.asdict(Limits())
    del rest["address_space_bytes"]
    assert limits.parse(rest).address_space_bytes == 0


def test_apply_sets_the_rlimits_of_the_process() -> None:
    code = (
        "import json, resource\nfrom humaneval_lab.sandbox.runner import limits\n"
        "limits.apply({'cpu_s': 3, 'file_size_bytes': 4096, 'open_files': 32, 'address_space_bytes': 0})\n"
        "print(json.dumps([resource.getrlimit(getattr(resource, 'RLIMIT_' + n)) for n in ('CPU', 'FSIZE', 'NOFILE', 'CORE')]))\n"
    )  # fmt: skip
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert json.loads(p.stdout) == [[3, 4], [4096, 4096], [32, 32], [0, 0]], p.stderr


STATUS = b"""Name:\tpython3
Umask:\t0022
State:\tS (sleeping)
Tgid:\t42
Uid:\t10100\t10100\t10100\t10100
Gid:\t10100\t10100\t10100\t10100
SigPnd:\t0000000000000000
ShdPnd:\t0000000000010000
SigBlk:\t0000000000000000
"""


def test_parse_status() -> None:
    assert proc.parse_status(STATUS) == (b"S", 1 << 16, 10100)
    assert proc.parse_status(STATUS.replace(b"Uid:", b"Xid:"))[2] is None
    with pytest.raises(ValueError):
        proc.parse_status(STATUS.replace(b"State:", b"Stat:"))


def test_running_and_proc_state_of_real_processes() -> None:
    assert proc.running(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.kill(child.pid, signal.SIGSTOP)
        for _ in range(200):
            st = proc.proc_state(child.pid)
            if st is not None and st[0] in (b"T", b"t"):
                break
            os.sched_yield()
        assert not proc.running(child.pid)  # stopped
    finally:
        child.kill()
        child.wait()
    assert proc.proc_state(child.pid) is None and not proc.running(child.pid)  # gone


def test_parse_oom_kills_v1_and_v2() -> None:
    v2 = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"
    v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n"
    assert proc.parse_oom_kills(v2) == 2 and proc.parse_oom_kills(v1) == 5
    assert proc.parse_oom_kills("oom 3\n") is None and proc.parse_oom_kills("oom_kill x\n") is None


SHM = """       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
         0         11   600                  4096   100   100      0 10100 10100 10100 10100          0          0 1700000000                     0                     0
         0         12   600                  4096   100   100      0     0     0 10101 10101          0          0 1700000000                     0                     0
         0         13   600                  4096   100   100      0     0     0     0     0          0          0 1700000000                     0                     0
"""


def test_parse_sysvipc_by_owner_or_creator() -> None:
    assert proc.parse_sysvipc(SHM, "shmid", {10100}) == [11]
    assert proc.parse_sysvipc(SHM, "shmid", {10101}) == [12]  # handed to root, still its creator's
    assert proc.parse_sysvipc(SHM, "shmid", None) == [11, 12, 13]
    assert proc.parse_sysvipc(SHM.splitlines()[0], "shmid", None) == []
