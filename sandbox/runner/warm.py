"""Python judged warm: the candidate starts fresh from the zygote, the tests run in a long-lived tester.

See ``Program.harness`` (humaneval_lab.execution.base) and hel_pydriver. Standard library only.
"""

from __future__ import annotations

import json
import os
import select
import time
from typing import Any, NamedTuple

from . import proc
from .children import Sabotage
from .context import Context
from .guard import write_files
from .steps import launch, oom_before, oom_since

TESTS_SIDE = "hel_pytests.py"  # the driver's tests side (see hel_pydriver), run by the tester


class Warm(NamedTuple):
    """How to judge a Python program warm."""

    driver: bytes  # hel_pydriver.py's source: the candidate's harness, the tester's framing
    tests_side: bytes  # hel_pytests.py's source: the tester's code
    tests: bytes  # the tests JSON, only ever sent to the tester
    code: bytes  # the candidate's code (prompt + completion)
    argv: list[str]
    seed: str  # PYTHONHASHSEED of the candidate and the tests


def plan(ctx: Context, program: dict[str, Any], seed: str) -> Warm | None:
    """The warm plan for ``program`` when this runner has a zygote and the program allows it.

    ``program["harness"]`` names the trusted driver among its files; ``run`` is then
    ``python3 -I <driver> <candidate> <tests>``, and ``TESTS_SIDE`` is among the files too.
    """
    driver = program.get("harness")
    if not driver or ctx.zygote is None:
        return None
    files = program["files"]
    py, isolated, named, candidate, tests = program["run"]
    if named != driver:
        raise ValueError(f"the harness {driver!r} is not what the run command starts")
    entry = json.loads(files[tests])["entry_point"]
    if TESTS_SIDE not in files:
        raise ValueError(f"the harness {driver!r} comes without {TESTS_SIDE}")
    return Warm(
        files[driver].encode(),
        files[TESTS_SIDE].encode(),
        files[tests].encode("utf-8", "surrogatepass"),
        files[candidate].encode("utf-8", "surrogatepass"),
        [py, isolated, driver, "--candidate", candidate, entry],
        seed,
    )


def run_warm(
    ctx: Context, warm: Warm, cwd: str, env: dict[str, str], lim: dict[str, Any], deadline: float, slot: int
) -> dict[str, Any]:
    """A warm Python step: the candidate (fresh, from the zygote) serves calls on fds 3 and 4, its
    code on fd 5, while this worker's tester runs the tests against it. One thread, no readers: a
    poll loop captures the candidate's output (capped) until the tester answers or the deadline.

    Returns ``steps.run_step``'s fields plus ``"tester"``: the answer, None at the deadline.
    """
    before = oom_before(ctx)
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    code = os.memfd_create("candidate")  # the candidate's code never sits in a shared dir
    with open(code, "wb", closefd=False) as f:
        f.write(warm.code)
    os.lseek(code, 0, os.SEEK_SET)
    uid = ctx.uids(slot)[0]
    harness: bytes | None = warm.driver
    if ctx.zygote is not None and warm.seed != ctx.zygote.env.get("PYTHONHASHSEED"):
        # Another hash seed than the zygote's: the candidate is exec'd (see steps.start), so the
        # driver it runs must be a file; the sample may change it, but only in its own process.
        write_files(cwd, {warm.argv[2]: warm.driver.decode()}, uid)
        harness = None
    try:
        started = launch(ctx, warm.argv, cwd, env, lim, (req_r, resp_w, code), harness, uid)
    finally:
        for fd in (req_r, resp_w, code):
            os.close(fd)
    if isinstance(started, dict):
        os.close(req_w)
        os.close(resp_r)
        return started
    pid, sin, sout, serr, wait = started
    sin.close()
    tester = ctx.tester((warm.driver, warm.tests_side), warm.seed)
    try:
        tester.send(warm.tests, [req_w, resp_r])
    finally:
        os.close(req_w)
        os.close(resp_r)
    cap = lim["output_bytes"]
    out_fd, err_fd = sout.fileno(), serr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    open_fds = set(bufs)  # until EOF
    poller = select.poll()
    for fd in (tester.sock.fileno(), *bufs):
        poller.register(fd, select.POLLIN)
    answer: dict[str, Any] | None = None
    overflow = timed_out = False

    def pump(fd: int) -> None:
        nonlocal overflow
        chunk = os.read(fd, 65536)
        if not chunk:
            poller.unregister(fd)
            open_fds.discard(fd)
            return
        buf = bufs[fd]
        if len(buf) < cap:
            buf += chunk[: cap - len(buf)]
        elif not overflow:
            overflow = True
            proc.kill_group(pid)

    try:
        while answer is None:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for fd, _ in poller.poll(left * 1000):
                if fd == tester.sock.fileno():
                    answer = tester.answer()
                elif fd in open_fds:
                    pump(fd)
    except Sabotage:
        proc.kill_group(pid)
        wait(10.0)
        raise
    finally:
        if answer is None:
            ctx.drop_tester()  # at the deadline (or dead): its stream may be mid-answer
    proc.kill_group(pid)  # done with the candidate, whatever the tests said
    rc = wait(10.0)  # also lets the cleanup's count of processes see it gone
    if answer is not None and not answer["gone"] and not overflow:
        rc = None  # the tests decided: how the (now killed) candidate ends changes nothing
    for wait_ms, strays_first in ((50, False), (2000, True)):
        if not open_fds:
            break
        if strays_first and ctx.guard is not None:
            ctx.guard.kill_slot(slot)  # a setsid daemon may hold the pipes open
        drain_until = time.monotonic() + wait_ms / 1000
        while open_fds and time.monotonic() < drain_until:
            for fd, _ in poller.poll(wait_ms / 10):
                if fd in open_fds:
                    pump(fd)
    sout.close()
    serr.close()
    return {
        "tester": answer,
        "rc": rc,
        "timed_out": timed_out,
        "overflow": overflow,
        "oom": oom_since(before, rc),
        "incomplete": bool(open_fds),
        "stdout": bytes(bufs[out_fd]),
        "stderr": bytes(bufs[err_fd]),
    }
