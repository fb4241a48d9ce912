"""Steps: start a command in a session of its own (from the zygote, or a plain subprocess on a
host), capture its output under a cap, wait for it until the deadline, kill its whole group.

Each ``run_*`` returns the facts of what happened (see ``verdict``); none decides a verdict.
Standard library only.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from . import limits, proc
from .context import Context
from .env import seeded, warm_python


class Capped:
    """Reads a stream to EOF, keeping at most ``cap`` bytes; calls ``on_overflow`` once past it."""

    def __init__(self, stream: Any, cap: int, on_overflow: Callable[[], None]) -> None:
        self.data = bytearray()
        self.overflow = False
        self.stream, self._cap, self._cb = stream, cap, on_overflow
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
                if not chunk:
                    return
                if len(self.data) < self._cap:
                    self.data += chunk[: self._cap - len(self.data)]
                elif not self.overflow:
                    self.overflow = True
                    self._cb()
        except (OSError, ValueError):
            return


class Started(NamedTuple):
    pid: int
    stdin: Any
    stdout: Any
    stderr: Any
    wait: Callable[[float | None], int | None]  # wait(timeout) -> rc | None


def _local_preexec(lim: dict[str, Any], extra: tuple[int, ...]) -> Callable[[], None]:
    def pre() -> None:
        limits.apply(lim)
        # Out of the targets' way; close-on-exec, so only the targets reach the program.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in extra]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)

    return pre


def start(
    ctx: Context,
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    lim: dict[str, Any],
    extra_fds: tuple[int, ...] = (),
    harness: bytes | None = None,
    uid: int | None = None,
) -> Started:
    """Start a step in its own session, as ``uid`` (contained runners).

    ``extra_fds`` become the step's fds 3, 4, ... and ``harness`` is the source of its script (warm
    Python steps only). In a container every step is a child of the zygote; locally, of ours.
    """
    z = ctx.zygote
    if z is not None:
        r0, w0 = os.pipe()
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        try:
            # In-process Python shares the zygote's hash secret (fixed when it started): a step with
            # another PYTHONHASHSEED is exec'd, a fresh interpreter.
            cold = not warm_python(argv) or env.get("PYTHONHASHSEED") != z.env.get("PYTHONHASHSEED")
            if cold:
                argv = seeded(argv)
            pid = z.spawn(argv, cwd, env, lim, [r0, w1, w2, *extra_fds], harness, uid, exec_=cold)
        except BaseException:
            for fd in (w0, r1, r2):
                os.close(fd)
            raise
        finally:
            for fd in (r0, w1, w2):
                os.close(fd)
        return Started(
            pid, os.fdopen(w0, "wb"), os.fdopen(r1, "rb"), os.fdopen(r2, "rb"), lambda t: z.wait(pid, t)
        )
    p = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so the kill reaches its children
        preexec_fn=_local_preexec(lim, extra_fds),
        # Not pass_fds=(3, 4): the child would check those fds of ours before preexec_fn runs, and
        # another thread may have closed them just then (EBADF). Our own fds are close-on-exec
        # (PEP 446), so without close_fds only stdio and the targets reach the program.
        close_fds=not extra_fds,
    )  # fmt: skip

    def wait(t: float | None) -> int | None:
        try:
            return p.wait(timeout=t)
        except subprocess.TimeoutExpired:
            return None

    return Started(p.pid, p.stdin, p.stdout, p.stderr, wait)


def launch(
    ctx: Context,
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    lim: dict[str, Any],
    extra_fds: tuple[int, ...] = (),
    harness: bytes | None = None,
    uid: int | None = None,
) -> Started | dict[str, Any]:
    """``start``; on failure, the step's result (infra when not its fault)."""
    try:
        return start(ctx, argv, cwd, env, lim, extra_fds, harness, uid)
    except OSError as exc:
        # EAGAIN/ENOMEM while another sample fork-bombs is not this sample's fault: retry it.
        infra = ctx.zygote is not None or exc.errno in (errno.EAGAIN, errno.ENOMEM)
        return {"rc": None, "error": f"cannot start {argv[0]}: {exc.strerror or exc}", "infra": infra}


def oom_before(ctx: Context) -> int | None:
    """The cgroup's OOM count before a step (None outside a container: nothing to compare)."""
    return proc.oom_kills() if ctx.contained else None


def oom_since(before: int | None, rc: int | None) -> bool:
    """Whether a step that died with ``rc`` was an OOM kill (the cgroup counter moved)."""
    if before is None or rc is None or rc >= 0:
        return False
    after = proc.oom_kills()
    return after is not None and after > before


def finish(
    ctx: Context, started: Started, readers: list[Capped], deadline: float, slot: int | None
) -> dict[str, Any]:
    """Wait for a started step until ``deadline``, kill its group, collect what it wrote."""
    rc = started.wait(max(0.0, deadline - time.monotonic()))
    timed_out = rc is None
    # Kill the group even after a clean exit: background children must not outlive the sample.
    proc.kill_group(started.pid)
    if timed_out:
        rc = started.wait(10.0)
    if ctx.guard is not None and slot is not None and any(r.thread.is_alive() for r in readers):
        ctx.guard.kill_slot(slot)  # a setsid daemon may hold the pipes open: every process of the slot goes
    for r in readers:
        r.thread.join(timeout=5.0)  # an escaped process may hold the pipe open: never wait forever
    for r in readers:
        if r.thread.is_alive():
            continue  # closing a buffered file that a thread is reading would block on its lock
        try:
            r.stream.close()
        except OSError:
            pass
    return {
        "rc": rc,
        "timed_out": timed_out,
        "overflow": any(r.overflow for r in readers),
        # A reader still running means the capture may lack the end of the output (the token line):
        # under heavy load that must not read as the model's failure.
        "incomplete": any(r.thread.is_alive() for r in readers),
    }


def run_step(
    ctx: Context,
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    stdin: bytes,
    lim: dict[str, Any],
    deadline: float,
    uid: int | None = None,
    slot: int | None = None,
) -> dict[str, Any]:
    """One command in its own session; killed with its whole process group at the deadline."""
    before = oom_before(ctx)
    started = launch(ctx, argv, cwd, env, lim, uid=uid)
    if isinstance(started, dict):
        return started
    out = Capped(started.stdout, lim["output_bytes"], lambda: proc.kill_group(started.pid))
    err = Capped(started.stderr, lim["output_bytes"], lambda: proc.kill_group(started.pid))
    try:
        started.stdin.write(stdin)
        started.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    res = finish(ctx, started, [out, err], deadline, slot)
    res["oom"] = oom_since(before, res["rc"])
    res["stdout"], res["stderr"] = bytes(out.data), bytes(err.data)
    return res


def run_pair(
    ctx: Context,
    program: dict[str, Any],
    workdir: str,
    judgedir: str,
    env: dict[str, str],
    lim: dict[str, Any],
    deadline: float,
    slot: int,
) -> dict[str, Any]:
    """A two-process language: the trusted judge runs the tests, the candidate serves calls.

    Both get two pipes as fds 3 (read) and 4 (write): the judge's requests are the candidate's fd 3,
    its answers the judge's fd 3. The judge runs as the slot's judge uid in its own dir, which the
    candidate (the slot's sample uid) cannot read; only what the candidate writes on fd 4 reaches it.
    """
    sample_uid, judge_uid = ctx.uids(slot)
    before = oom_before(ctx)
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    if ctx.ids:
        # Let both uids reopen their ends through /proc/self/fd (Lua has no fdopen). A pipe made
        # here is root's, mode 0600; only processes holding an end can reach such a link.
        for fd in (req_r, resp_r):
            os.fchmod(fd, 0o666)
    judge_env = {**env, "HOME": judgedir, "TMPDIR": judgedir}
    try:
        cand = launch(ctx, list(program["run"]), workdir, env, lim, (req_r, resp_w), uid=sample_uid)
        if isinstance(cand, dict):
            return cand
        judge = launch(ctx, list(program["judge"]), judgedir, judge_env, lim, (resp_r, req_w), uid=judge_uid)
        if isinstance(judge, dict):
            proc.kill_group(cand.pid)
            cand.wait(10.0)
            return {**judge, "infra": True}  # our own judge did not start
    finally:
        for fd in (req_r, req_w, resp_r, resp_w):
            os.close(fd)
    for s in (cand.stdin, judge.stdin):
        s.close()
    cap = lim["output_bytes"]
    c_out = Capped(cand.stdout, cap, lambda: proc.kill_group(cand.pid))
    c_err = Capped(cand.stderr, cap, lambda: proc.kill_group(cand.pid))
    j_out = Capped(judge.stdout, cap, lambda: proc.kill_group(judge.pid))
    j_err = Capped(judge.stderr, cap, lambda: proc.kill_group(judge.pid))
    jres = finish(ctx, judge, [j_out, j_err], deadline, None)
    # The judge is done (or out of time): the candidate has nothing more to answer.
    cres = finish(ctx, cand, [c_out, c_err], time.monotonic() + 0.05, slot)
    return {
        "judge_rc": jres["rc"],
        "judge_stderr": bytes(j_err.data),
        "rc": cres["rc"],
        "timed_out": jres["timed_out"],
        "overflow": cres["overflow"] or jres["overflow"],
        "oom": oom_since(before, jres["rc"] if jres["rc"] is not None and jres["rc"] < 0 else cres["rc"]),
        "incomplete": jres["incomplete"],
        "stdout": bytes(c_out.data),
        "stderr": bytes(c_err.data),
        # Still running when the judge was done, and so killed by us: not a crash (or an OOM) of
        # its own, e.g. a candidate that closed its channel and kept computing.
        "cand_killed": cres["timed_out"] and cres["rc"] == -signal.SIGKILL,
    }
