"""Shared by the warm-compiler tests (test_javac_server.py, test_tsc_server.py): finding the compile
servers of an executor's containers from the host, their CPU time, signalling them from inside."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from conftest import judged_once, processes_in

from humaneval_lab.execution.base import Job

COMPILER_UID = 10002  # sandbox/runner/compile_server.py: no job's, judge's or tester's uid


def processes_of_uid(ex: Any, uid: int) -> list[int]:
    """Host pids of the processes running as ``uid`` in the executor's containers."""
    out = []
    for pid in processes_in(ex.container_ids):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        real = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("Uid:")), "")
        if real == str(uid):
            out.append(pid)
    return out


def servers(ex: Any) -> list[int]:
    """Host pids of the compile servers in the executor's containers."""
    return processes_of_uid(ex, COMPILER_UID)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def signal_uid(ex: Any, uid: int, signal: str) -> None:
    """Send ``signal`` to every process of ``uid``, from inside the container (as root)."""
    (cid,) = ex.container_ids
    script = (
        "import os, signal\n"
        "for p in os.listdir('/proc'):\n"
        f"    if p.isdigit() and os.stat('/proc/' + p).st_uid == {uid}:\n"
        f"        os.kill(int(p), signal.{signal})\n"
    )
    subprocess.run(["docker", "exec", cid, "python3", "-c", script], check=True, timeout=60)


def signal_servers(ex: Any, signal: str) -> None:
    """Send ``signal`` to every process of the compiler uid, from inside the container (as root)."""
    signal_uid(ex, COMPILER_UID, signal)


def verdicts(ex: Any, jobs: list[Job]) -> dict[str, tuple[str, str, str]]:
    return {k: (o.status.value, o.reason, o.stderr_tail) for k, o in judged_once(ex, jobs).items()}
