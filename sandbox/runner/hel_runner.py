"""Run one judged program, or serve many over stdio. Standard library only.

This file runs in two places: imported by the host's ``local`` executor, and inside the sandbox
container, where the host sends this very source over stdin and then one JSON job per line. Keeping
one implementation means a verdict means the same thing wherever it was reached.

Wire protocol (container): the host writes ``{"job": <Job as dict>}`` lines and ``{"shutdown": true}``;
the runner answers ``{"id": ..., "outcome": {...}}`` lines, in completion order, and ``{"ready": ...}``
once at start.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

TAIL = 2000  # bytes of stderr kept in a verdict


def _tail(b: bytes, n: int = TAIL) -> str:
    return b[-n:].decode("utf-8", "replace")


def _limits(lim: dict[str, Any]) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_size_bytes"], lim["file_size_bytes"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"]))
        if lim.get("address_space_bytes"):
            resource.setrlimit(resource.RLIMIT_AS, (lim["address_space_bytes"], lim["address_space_bytes"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class _Capped:
    """Reads a stream to EOF, keeping at most ``cap`` bytes; calls ``on_overflow`` once past it."""

    def __init__(self, stream: Any, cap: int, on_overflow: Any) -> None:
        self.data = bytearray()
        self.overflow = False
        self._stream, self._cap, self._cb = stream, cap, on_overflow
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            while True:
                chunk = (
                    self._stream.read1(65536) if hasattr(self._stream, "read1") else self._stream.read(65536)
                )
                if not chunk:
                    return
                if len(self.data) < self._cap:
                    self.data += chunk[: self._cap - len(self.data)]
                elif not self.overflow:
                    self.overflow = True
                    self._cb()
        except (OSError, ValueError):
            return


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_step(
    argv: list[str], cwd: str, env: dict[str, str], stdin: bytes, lim: dict[str, Any], deadline: float
) -> dict[str, Any]:
    """One command in its own session; killed with its whole process group at the deadline."""
    try:
        p = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so the kill reaches its children
            preexec_fn=_limits(lim),
        )
    except OSError as exc:
        return {"rc": None, "error": f"cannot start {argv[0]}: {exc.strerror}"}
    state = {"overflow": False}

    def overflow() -> None:
        state["overflow"] = True
        _kill_group(p.pid)

    out = _Capped(p.stdout, lim["output_bytes"], overflow)
    err = _Capped(p.stderr, lim["output_bytes"], overflow)
    try:
        assert p.stdin is not None
        p.stdin.write(stdin)
        p.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    timed_out = False
    try:
        p.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
    # Kill the group even after a clean exit: background children must not outlive the sample.
    _kill_group(p.pid)
    if timed_out:
        p.wait()
    for r in (out, err):
        r.thread.join(timeout=2.0)  # an escaped process may hold the pipe open: never wait forever
    for s in (p.stdout, p.stderr):
        try:
            s.close()  # type: ignore[union-attr]
        except OSError:
            pass
    return {
        "rc": p.returncode,
        "timed_out": timed_out,
        "overflow": state["overflow"] or out.overflow or err.overflow,
        "stdout": bytes(out.data),
        "stderr": bytes(err.data),
    }


def _classify_failure(res: dict[str, Any], program: dict[str, Any], stage: str) -> dict[str, str]:
    err: bytes = res["stderr"]
    tail = _tail(err)
    if res["timed_out"]:
        return {"status": "timeout", "reason": f"{stage} exceeded the time limit", "stderr_tail": tail}
    if res["overflow"]:
        return {
            "status": "output_limit",
            "reason": f"{stage} wrote more output than allowed",
            "stderr_tail": tail,
        }
    rc = res["rc"]
    if rc is not None and rc < 0:
        sig = -rc
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "reason": "CPU time limit", "stderr_tail": tail}
        if sig == signal.SIGXFSZ:
            return {"status": "output_limit", "reason": "file size limit", "stderr_tail": tail}
        if sig == signal.SIGKILL:
            return {"status": "oom", "reason": "killed (SIGKILL): out of memory", "stderr_tail": tail}
        return {"status": "crashed", "reason": f"killed by {name}", "stderr_tail": tail}
    if b"MemoryError" in err or b"OutOfMemoryError" in err or b"std::bad_alloc" in err:
        return {"status": "oom", "reason": "out of memory", "stderr_tail": tail}
    if stage == "compile":
        return {"status": "error", "reason": "compile error", "stderr_tail": tail}
    last = next((ln for ln in reversed(tail.splitlines()) if ln.strip()), f"exit code {rc}")
    for marker in program.get("failure_markers", ()):
        if marker.encode() in err:
            return {"status": "failed", "reason": last.strip()[:200], "stderr_tail": tail}
    return {"status": "error", "reason": last.strip()[:200], "stderr_tail": tail}


def _base_env(workdir: str, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    env.update(extra)
    return env


def _write_files(workdir: str, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = os.path.normpath(os.path.join(workdir, rel))
        if not path.startswith(workdir + os.sep):
            raise ValueError(f"file path escapes the work dir: {rel!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(content)


def execute_job(job: dict[str, Any], root: str | None = None) -> dict[str, Any]:
    """Judge one job; returns an outcome dict (status, reason, stderr_tail, duration_s)."""
    start = time.monotonic()
    program, lim = job["program"], job["limits"]
    deadline = start + float(lim["timeout_s"])
    token = secrets.token_hex(16)
    workdir = tempfile.mkdtemp(prefix="hel-", dir=root)
    try:
        _write_files(workdir, program["files"])
        env = _base_env(
            workdir,
            {
                k.replace("{workdir}", workdir): v.replace("{workdir}", workdir)
                for k, v in program.get("env", {}).items()
            },
        )
        for argv in program.get("compile", ()):
            res = _run_step(list(argv), workdir, env, b"", lim, deadline)
            if res["rc"] is None:
                return {
                    "status": "error",
                    "reason": res["error"],
                    "stderr_tail": "",
                    "duration_s": time.monotonic() - start,
                }
            if res["rc"] != 0 or res["timed_out"] or res["overflow"]:
                out = _classify_failure(res, program, "compile")
                if out["status"] == "error":
                    # compilers often report on stdout (javac, tsc): keep both
                    out["stderr_tail"] = _tail(res["stdout"] + res["stderr"])
                return {**out, "duration_s": time.monotonic() - start}
        res = _run_step(list(program["run"]), workdir, env, (token + "\n").encode(), lim, deadline)
        if res["rc"] is None:
            return {
                "status": "error",
                "reason": res["error"],
                "stderr_tail": "",
                "duration_s": time.monotonic() - start,
            }
        stdout_lines = res["stdout"].decode("utf-8", "replace").splitlines()
        token_seen = token in (ln.strip() for ln in stdout_lines)
        if res["rc"] == 0 and not res["timed_out"] and not res["overflow"]:
            if not token_seen:
                outcome = {
                    "status": "failed",
                    "reason": "exited 0 before the tests finished",
                    "stderr_tail": _tail(res["stderr"]),
                }
            elif program.get("require_empty_stderr") and res["stderr"].strip():
                last = res["stderr"].decode("utf-8", "replace").strip().splitlines()[-1]
                outcome = {"status": "failed", "reason": last[:200], "stderr_tail": _tail(res["stderr"])}
            else:
                outcome = {"status": "passed", "reason": "", "stderr_tail": ""}
        else:
            outcome = _classify_failure(res, program, "run")
        return {**outcome, "duration_s": time.monotonic() - start}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def serve(workers: int, root: str | None = None) -> None:
    """Read jobs from stdin, judge them on ``workers`` threads, write outcomes to stdout."""
    out_lock = threading.Lock()
    stdout = sys.stdout

    def emit(obj: dict[str, Any]) -> None:
        line = json.dumps(obj) + "\n"
        with out_lock:
            stdout.write(line)
            stdout.flush()

    def work(job: dict[str, Any]) -> None:
        try:
            outcome = execute_job(job, root)
        except Exception as exc:  # report, never die: the host retries infrastructure errors
            outcome = {
                "status": "infra_error",
                "reason": f"runner: {type(exc).__name__}: {exc}",
                "stderr_tail": "",
                "duration_s": 0.0,
            }
        emit({"id": job["id"], "outcome": outcome})

    emit({"ready": True, "pid": os.getpid()})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("shutdown"):
                break
            pool.submit(work, msg["job"])


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count() or 1)
