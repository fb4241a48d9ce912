"""Judge one job: its dirs and files, its steps in order, the verdict (``verdict``), the cleanup.

``execute_job`` is the one judging function every executor uses (the host's ``local`` executor
with ``Context.local()``, the container's ``serve`` with its own), so a verdict means the same
thing wherever it was reached. Standard library only.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from typing import Any

from . import cputime, javac, limits, nodejudge, nodestart, tsc, verdict, warm
from .context import Context
from .env import base_env
from .guard import new_dir, remove_tree, write_files
from .steps import run_pair, run_step


def execute_job(job: dict[str, Any], root: str | None = None, ctx: Context | None = None) -> dict[str, Any]:
    """Judge one job (a ``Job`` as the wire carries it); returns an outcome dict (status, reason,
    stderr_tail, duration_s, and ``solo`` when it must be judged again alone)."""
    try:
        return _execute(job, root, ctx or _LOCAL, warm_judge=True)
    except nodejudge.Lost:
        # The warm JS judge died while it judged: the whole job again, with the cold judge.
        return _execute(job, root, ctx or _LOCAL, warm_judge=False)


def _execute(job: dict[str, Any], root: str | None, ctx: Context, warm_judge: bool) -> dict[str, Any]:
    start = time.monotonic()
    program = job["program"]
    lim = limits.parse(job["limits"])._asdict()  # checked: a bad one is the runner's error (infra)
    timeout_s = lim["timeout_s"]
    deadline = start + timeout_s
    token = secrets.token_hex(16)
    guard = ctx.guard
    slot = ctx.slot()
    sample_uid, judge_uid = ctx.uids(slot)
    dirs: list[str] = []
    if guard:
        # Create and register the dirs under the guard's lock, so a sweep from a job finishing on
        # another thread never sees (and deletes) a dir not yet registered.
        with guard.lock:
            workdir = new_dir(os.path.join(root or "/work", f"job{slot}"), sample_uid)
            dirs.append(workdir)
            judgedir = ""
            if program.get("judge"):
                judgedir = new_dir(os.path.join(root or "/work", f"judge{slot}"), judge_uid)
                dirs.append(judgedir)
    else:
        workdir = tempfile.mkdtemp(prefix="hel-", dir=root)
        judgedir = tempfile.mkdtemp(prefix="hel-judge-", dir=root) if program.get("judge") else ""
        dirs += [d for d in (workdir, judgedir) if d]
    env = base_env(
        workdir,
        {
            k.replace("{workdir}", workdir): v.replace("{workdir}", workdir)
            for k, v in program.get("env", {}).items()
        },
    )
    if job.get("hash_seed") is not None:
        # The host's choice for this sample (recorded with its verdict): every process of the job,
        # the Python candidate and its tests alike, hashes str/bytes with it, run after run.
        env["PYTHONHASHSEED"] = str(int(job["hash_seed"]))

    # The job's CPU time over its whole process tree, sampled while it runs (and its kill past
    # ``cpu_time_s``); in a container every process of the slot's uids, on a host this thread's children.
    slot_uids = tuple(u for u in (sample_uid, judge_uid) if u is not None)
    watch = cputime.Watch(lim["cpu_time_s"], slot_uids if ctx.ids else None)

    def checked(res: dict[str, Any]) -> dict[str, Any]:
        res["cpu_out"] = watch.exceeded
        return res

    def done(outcome: dict[str, Any]) -> dict[str, Any]:
        cpu_s = watch.stop()
        return verdict.final(outcome, time.monotonic() - start, timeout_s, ctx.shared, cpu_s)

    try:
        watch.start()
        plan = warm.plan(ctx, program, env["PYTHONHASHSEED"])
        # Warm, the work dir starts empty: tests, driver and code reach their processes directly.
        write_files(workdir, {} if plan else program["files"], sample_uid)
        if judgedir:
            write_files(judgedir, program.get("judge_files", {}), judge_uid)
        for argv in program.get("compile", ()):
            # Java's and TypeScript's compile by the runner's warm compilers when they can (same
            # sources, same verdict).
            step = (ctx, list(argv), workdir, program["files"], lim, deadline, sample_uid)
            served = javac.compile_step(*step) or tsc.compile_step(*step)
            if served is None:
                served = run_step(ctx, list(argv), workdir, env, b"", lim, deadline, sample_uid, slot)
            res = checked(served)
            if "error" in res:  # it did not start
                return verdict.not_started(res, time.monotonic() - start)
            failed = verdict.compile_outcome(res, program, ctx.contained)
            if failed is not None:
                return done(failed)
        if plan is not None:
            res = checked(warm.run_warm(ctx, plan, workdir, env, lim, deadline, slot))
            if "error" in res:
                return verdict.not_started(res, time.monotonic() - start)
            return done(verdict.warm_outcome(res, program, ctx.contained))
        if judgedir:
            # JS/TS: Node processes start from the runner's snapshot, the tests run in this worker's
            # warm judge when it can take them (else the cold judge, as before).
            warm_js = warm_judge and nodejudge.eligible(ctx, program)
            if warm_js:
                nodejudge.start(ctx, program)  # a first job's: its boot overlaps the snapshot's build
            pair = nodestart.program(ctx, program)
            served = None
            if warm_js:
                served = nodejudge.run(ctx, program, workdir, judgedir, env, lim, deadline, slot, pair["run"])
            if served is None:
                served = run_pair(ctx, pair, workdir, judgedir, env, lim, deadline, slot)
            res = checked(served)
            if "error" in res:
                return verdict.not_started(res, time.monotonic() - start)
            return done(verdict.pair_outcome(res, program, ctx.contained))
        stdin = (token + "\n").encode()
        res = checked(
            run_step(ctx, list(program["run"]), workdir, env, stdin, lim, deadline, sample_uid, slot)
        )
        if "error" in res:  # it did not start
            return verdict.not_started(res, time.monotonic() - start)
        return done(verdict.token_outcome(res, program, token, ctx.contained))
    finally:
        watch.stop()  # before the cleanup: its count of our threads must not include the watch's
        if guard:
            guard.clean(slot, tuple(dirs))
        else:
            for d in dirs:
                remove_tree(d)


_LOCAL = Context.local()
