"""The warm JavaScript/TypeScript judge: one trusted Node process per worker thread judging job after job.

A JS/TS job is two processes (humaneval_lab/languages/javascript.py): a trusted judge that runs the
tests (``node hel_judge.js hel_tests.json``, the slot's judge uid) and the candidate that answers
its calls (the sample's uid). Starting the judge cost a Node start per sample, as much as the
candidate's. Here one server per worker (``node_judge_server``: compile_server's process, under a
uid of its own, pipes only the runner holds, killed at a job's deadline) loads the job's own
``hel_judge.js`` and judges job after job with it, keyed by the judge's and codec's sources: a job
that ships other ones gets a fresh server.

Per job the runner makes two FIFOs in the server's home (root's, 0755), owned by the server's uid,
mode 0600, with random names, and holds one end of each: the calls' read end and the answers'
write end, which become the candidate's fds 3 and 4 (as ``steps.run_pair`` gives them), so the
candidate never holds a path, an fd or a signal that reaches the judge. The server opens the other
ends (neither open waits: the runner holds the peers), says ACK, and the runner then starts the
candidate and lets go of its copies, so the judge sees the candidate's end of the stream, and the
candidate the end of its calls, exactly as with the cold judge. The FIFOs are unlinked when the
job ends. The answer is the cold judge's exit code and stderr, so ``verdict.pair_outcome`` decides
as it did.

Fallbacks: no server, not ready in time, or one that cannot set up the job means the cold judge for
that job (nothing of the candidate has run yet). A server that dies while it judges raises
``Lost``: ``judge.execute_job`` judges the job again from the start with the cold judge. Past the
deadline the candidate is killed and the job is a timeout like the cold judge's; a server that was
waiting for the candidate then answers and is kept, one that does not (stuck itself) is killed.
The server's CPU time is not the job's (the cputime watch counts the slot's uids), so a job that timed out while the
server (not the candidate) was busy computed little and is judged again alone (``verdict.final``).
``HEL_NODE_JUDGE=0`` turns it off.

Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import stat
import struct
import time
from typing import Any

from . import compile_server as cs
from . import proc
from .context import Context
from .node_judge_server import SERVER_JS
from .steps import Capped, finish, launch, oom_before, oom_since

JUDGE_ARGV = ("node", "hel_judge.js", "hel_tests.json")
MD5 = "node_modules/js-md5/index.js"
_KNOWN = frozenset({"hel_judge.js", "hel_codec.js", "hel_tests.json", MD5})
ACK = 0x41434B31
CRASHED = 9
# Its own uid: no job's, judge's, tester's or compiler's (a compiler parses sample text; this
# process decides verdicts), so neither a sample nor another helper can signal, ptrace or open it.
JUDGE_SERVER_UID = 10003
# Few threads (each counts in the pids cgroup the guard checks exactly); a heap bound so tests that
# grow without end kill the server (the job is then judged cold).
NODE_FLAGS = ("--v8-pool-size=1", "--max-old-space-size=1024")
# After a job's deadline, how long a judge that waited on the (then killed) candidate has to answer.
GRACE_S = 2.0


class Lost(Exception):
    """The warm judge died while it judged a job: judge it again, cold."""


def enabled() -> bool:
    return os.environ.get("HEL_NODE_JUDGE", "1") != "0"


_SPECS: dict[tuple[str, str, str], cs.Spec] = {}


def spec_of(judge_files: dict[str, str]) -> cs.Spec:
    """The server for a job's judge sources (one per distinct sources, kept)."""
    key = (judge_files["hel_judge.js"], judge_files["hel_codec.js"], judge_files.get(MD5, ""))
    found = _SPECS.get(key)
    if found is None:
        digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:16]
        files = [("hel_judge.js", key[0]), ("hel_codec.js", key[1])] + ([(MD5, key[2])] if key[2] else [])
        found = _SPECS[key] = cs.Spec(
            kind="node-judge",
            home=f"/work/.hel-node-judge-{digest}",  # /work is root's (0711)
            main="server.js",
            source=SERVER_JS,
            argv=("node", *NODE_FLAGS),
            statuses=frozenset({0, 1, 2, 3, 4}),
            crashed=CRASHED,
            names=re.compile(r"restart"),  # its one possible output: it ends after this job
            max_outputs=1,
            files=tuple(files),
            uid=JUDGE_SERVER_UID,
        )
    return found


def eligible(ctx: Context, program: dict[str, Any]) -> bool:
    """Whether ``program`` is the JS/TS judge pair the warm judge does exactly."""
    if not (ctx.contained and enabled() and tuple(program.get("judge") or ()) == JUDGE_ARGV):
        return False
    judge_files = program.get("judge_files") or {}
    # Only the files the cold judge's dir would hold: the server is made of the same ones.
    return {"hel_judge.js", "hel_codec.js", "hel_tests.json"} <= judge_files.keys() <= _KNOWN


def start(ctx: Context, program: dict[str, Any]) -> None:
    """Start this worker's judge for ``program`` if it is not running (``run`` waits for it)."""
    ctx.compiler(spec_of(program["judge_files"]))


def _fifo(home: str, uid: int | None) -> str:
    path = os.path.join(home, f"fifo-{secrets.token_hex(12)}")
    os.mkfifo(path, 0o600)
    if uid is not None:
        os.chown(path, uid, uid, follow_symlinks=False)
    st = os.lstat(path)
    if not stat.S_ISFIFO(st.st_mode):
        raise OSError(f"{path} is not the FIFO just made")
    return path


def run(
    ctx: Context,
    program: dict[str, Any],
    workdir: str,
    judgedir: str,
    env: dict[str, str],
    lim: dict[str, Any],
    deadline: float,
    slot: int,
    argv: list[str],
) -> dict[str, Any] | None:
    """``steps.run_pair``'s result for a JS/TS job judged by this worker's warm judge, the candidate
    started with ``argv``; None: judge it cold (nothing of the candidate ran). Raises ``Lost``."""
    judge_files = program["judge_files"]
    spec = spec_of(judge_files)
    server = ctx.compiler(spec)
    if server is None or not server.wait_ready(time.monotonic() + (deadline - time.monotonic()) / 2):
        return None
    sample_uid = ctx.uids(slot)[0]
    server_uid = JUDGE_SERVER_UID if ctx.ids else None
    made: list[str] = []
    held: list[int] = []
    pending = False  # the server took the job and its answer is not read yet
    try:
        calls, answers = _fifo(spec.home, server_uid), _fifo(spec.home, server_uid)
        made += [calls, answers]
        # The candidate's ends; O_NONBLOCK only so the opens do not wait, then taken off (its
        # reads and writes block, as on the cold judge's pipes).
        calls_r = os.open(calls, os.O_RDONLY | os.O_NONBLOCK)
        held.append(calls_r)
        answers_r = os.open(answers, os.O_RDONLY | os.O_NONBLOCK)  # so the write end opens
        held.append(answers_r)
        answers_w = os.open(answers, os.O_WRONLY | os.O_NONBLOCK)
        held.append(answers_w)
        for fd in (calls_r, answers_w):
            os.set_blocking(fd, True)
        request = json.dumps(
            {
                "spec": judge_files["hel_tests.json"],
                "dir": judgedir,
                "calls": calls,
                "answers": answers,
                "md5": MD5 in judge_files,
            }
        ).encode()
        try:
            server.send(struct.pack(">i", len(request)) + request, deadline)
            ack = server.read_int(deadline)
        except OSError:  # TimeoutError included: not set up in time, so judge it cold
            ctx.drop_compiler(spec)
            cs.log(spec.kind, "it did not take a job; the cold judge for this job, restarted for the next")
            return None
        if ack != ACK:
            if ack != CRASHED:
                ctx.drop_compiler(spec)
            cs.log(spec.kind, "it could not set up a job; the cold judge for this job")
            return None
        pending = True
        os.close(answers_r)  # the judge holds the read end now
        held.remove(answers_r)
        before = oom_before(ctx)
        cand = launch(ctx, argv, workdir, env, lim, (calls_r, answers_w), uid=sample_uid)
        for fd in (calls_r, answers_w):
            os.close(fd)
            held.remove(fd)
        if isinstance(cand, dict):
            # Not started: the judge reads the end of the answers and says so; only then is the
            # server free for the next job.
            pending = False
            _settle(ctx, spec, server, deadline, lim)
            return cand
        cand.stdin.close()
        cap = lim["output_bytes"]
        c_out = Capped(cand.stdout, cap, lambda: proc.kill_group(cand.pid))
        c_err = Capped(cand.stderr, cap, lambda: proc.kill_group(cand.pid))
        timed_out = lost = False
        status: int | None = None
        diag = b""
        if not server.readable(deadline):
            # Out of time: the candidate goes first; a judge that was waiting for it then reads
            # the end of its answers and answers at once, and is kept. One that does not (stuck
            # itself) is killed below.
            timed_out = True
            proc.kill_group(cand.pid)
            if ctx.guard is not None:
                ctx.guard.kill_slot(slot)
        try:
            pending = False
            until = time.monotonic() + GRACE_S if timed_out else deadline
            status, diag, outputs = server.answer(until, cap)
            if outputs:  # "restart": its tests left something behind, it ends with this job
                ctx.drop_compiler(spec)
        except TimeoutError:
            ctx.drop_compiler(spec)
            cs.log(spec.kind, "it was stuck at a job's deadline; server killed, restarted for the next job")
            timed_out = True
        except OSError as exc:
            ctx.drop_compiler(spec)
            if timed_out:
                cs.log(spec.kind, f"{exc} at a job's deadline; restarted for the next job")
            else:
                cs.log(spec.kind, f"{exc}; the job is judged again, cold")
                lost = True
        # The judge is done (or out of time): the candidate has nothing more to answer.
        cres = finish(ctx, cand, [c_out, c_err], time.monotonic() + 0.05, slot)
        if lost:
            raise Lost()
        return {
            "judge_rc": status,
            "judge_stderr": diag,
            "rc": cres["rc"],
            "timed_out": timed_out,
            "overflow": cres["overflow"],
            "oom": oom_since(before, cres["rc"]),
            "incomplete": False,
            "stdout": bytes(c_out.data),
            "stderr": bytes(c_err.data),
            "cand_killed": cres["timed_out"] and cres["rc"] == -signal.SIGKILL,
        }
    finally:
        if pending:  # left mid-job (an exception): its answer would be read as the next job's
            ctx.drop_compiler(spec)
        for fd in held:
            os.close(fd)
        for path in made:
            try:
                os.unlink(path)
            except OSError:
                pass


def _settle(ctx: Context, spec: cs.Spec, server: cs.Server, deadline: float, lim: dict[str, Any]) -> None:
    """Wait for the server's answer to a job whose candidate never started (it sees the answers end)."""
    try:
        server.answer(deadline, lim["output_bytes"])
    except OSError:
        ctx.drop_compiler(spec)
