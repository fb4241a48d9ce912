"""Serve many jobs over stdio inside the sandbox container. Standard library only.

Wire protocol (container): after the bundle (see ``boot``) the host writes the channel key (hex) on
one line, then sealed lines (``wire.seal``) ``{"job": <Job as dict>}``, ``{"stats": true}`` and
``{"shutdown": true}``; the runner answers sealed ``{"ready": ...}`` once at start, ``{"start": id}``
when a job begins and ``{"id": ..., "outcome": {...}}`` when it ends, in completion order. A job may
carry ``"keep": {file name: sha256}`` (keep that file's text, under its hash, checked here) and
``"shared": {file name: sha256}`` (that file's text is one kept earlier), so big files jobs repeat
cross the pipe once or twice.

In the container (``serve(..., contained=True)``, started as root with a handful of capabilities):

- every process of a job is forked by a warm *zygote* (``zygote``: a clean interpreter started
  once, that never sees a job's data or token) and drops to a uid of its own before it reads
  anything the job controls (see ``guard`` for who runs as whom); ``python3 -I script.py`` steps run
  in the forked child itself (a Python start costs ~20 ms of CPU, a fork ~1 ms: most of the
  sandbox's speed), other programs are exec'd;
- after every job, kills every process of the slot's uids (kill(-1) as that uid: no fork outruns
  it), removes every file they own in the writable dirs (/work, /tmp, /dev/shm, /dev/mqueue) and
  every SysV IPC object, iteratively; if anything stays, the runner ends after its answer and the
  host starts a fresh container;
- tells an out-of-memory kill from another SIGKILL with the cgroup's oom_kill counter, never by
  what a sample printed.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from . import proc, verdict, wire
from .children import Sabotage, Zygote
from .context import Context
from .guard import Guard
from .judge import execute_job

EXIT_SABOTAGE = 70  # the zygote or a tester died: no verdict, the host re-runs the jobs in flight
EXIT_DIRTY = 71  # what a sample left could not be removed: this container serves no later sample
EXIT_TAMPERED = 72  # a line not sealed by the host


def contained_context(workers: int, root: str) -> Context:
    """The context of a runner alone in a sandbox container (uids when started as root)."""
    ctx = Context(contained=True, ids=os.geteuid() == 0, shared=workers > 1)
    proc.set_non_dumpable()
    scratch = tuple(d for d in (root, "/tmp", "/dev/shm", "/dev/mqueue") if os.path.isdir(d))
    try:
        ctx.zygote = Zygote(os.path.join(root, "job0"), os.environ.get("HEL_PRELOAD", ""))
    except OSError:
        ctx.zygote = None
    ctx.guard = Guard(root, scratch, ctx.shared, ctx.ids, ctx.zygote, ctx.helpers)
    return ctx


def serve(workers: int, root: str | None = None, contained: bool = False) -> None:
    """Read jobs from stdin, judge them on ``workers`` threads, write outcomes to stdout.

    The first line on stdin is the channel's key (hex). ``contained``: we are alone in a sandbox
    container (never on the user's machine): start the zygote, run every job's processes under
    uids of their own (when started as root), clean up after every job.
    """
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    key = bytes.fromhex(stdin.readline().decode().strip())
    if contained:
        root = root or "/work"
        ctx = contained_context(workers, root)
    else:
        ctx = Context.local()
    Server(ctx, key, stdout, root).run(stdin, workers)


class Server:
    """One runner's job loop: unseals jobs, judges each on a worker thread, seals the answers."""

    def __init__(self, ctx: Context, key: bytes, out: BinaryIO, root: str | None) -> None:
        self.ctx, self.key, self.out, self.root = ctx, key, out, root
        self._lock = threading.Lock()
        self.shared: dict[str, str] = {}  # big files jobs repeat, by sha256: later jobs name them

    def emit(self, obj: dict[str, Any]) -> None:
        line = wire.seal(self.key, obj)
        with self._lock:
            self.out.write(line)
            self.out.flush()

    def work(self, job: dict[str, Any]) -> None:
        ctx = self.ctx
        self.emit({"start": job["id"]})
        try:
            outcome = execute_job(job, self.root, ctx)
            if ctx.contained and not ctx.intact():
                raise Sabotage("the zygote or a tester was killed or stopped")
        except Sabotage:
            # The zygote or a tester died under us (the OOM killer may pick them): end the runner
            # without a verdict, so the host re-runs every job in flight in a fresh container.
            os._exit(EXIT_SABOTAGE)
        except Exception as exc:  # report, never die: the host retries infrastructure errors
            outcome = verdict.runner_failed(exc)
        self.emit({"id": job["id"], "outcome": outcome})
        if ctx.guard is not None and ctx.guard.dirty:
            sys.stderr.write(f"runner: {ctx.guard.dirty}; ending\n")
            sys.stderr.flush()
            os._exit(EXIT_DIRTY)

    def ready(self) -> dict[str, Any]:
        return {
            "ready": True,
            "pid": os.getpid(),
            "zygote": self.ctx.zygote is not None,
            "uids": self.ctx.ids,
            "oom_counter": proc.oom_kills() is not None,
            "cpus": sorted(os.sched_getaffinity(0)),  # the host may pin this container to some of them
        }

    def stats(self) -> dict[str, Any]:
        g = self.ctx.guard
        return {
            "stats": {
                "strays_killed": g.strays_killed if g else 0,
                "files_swept": g.files_swept if g else 0,
                "ipc_removed": g.ipc_removed if g else 0,
            }
        }

    def expand(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job with the files it names by hash put back (and those it asks to keep, kept)."""
        files = job["program"]["files"]
        for name, digest in job.get("keep", {}).items():
            text = files[name]
            if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() == digest:
                self.shared[digest] = text  # kept only under its true hash
        for name, digest in job.get("shared", {}).items():
            files[name] = self.shared[digest]  # the host sent it with an earlier job, to keep
        return job

    def run(self, lines: BinaryIO, workers: int) -> None:
        self.emit(self.ready())
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for line in lines:
                try:
                    msg = wire.unseal(self.key, line)
                except ValueError:
                    os._exit(EXIT_TAMPERED)  # not from the host
                if msg.get("shutdown"):
                    break
                if msg.get("stats"):
                    self.emit(self.stats())
                    continue
                pool.submit(self.work, self.expand(msg["job"]))


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count() or 1)
