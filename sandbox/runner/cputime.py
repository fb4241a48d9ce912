"""A job's CPU time, summed over its whole process tree, and the kill when it passes its limit.

Why: a wall-clock limit charges an infinite loop its full limit (5 s floor) and charges a correct
sample for a loaded host. CPU time does neither: a runaway is stopped after ``limit`` seconds of
computing, however busy the box is. ``Watch`` runs in a thread of its own only while a job runs,
sampling every few ms (``interval``), and SIGKILLs the job's processes once the sum passes the limit.

Whose processes: in a container that switches uids (``ctx.ids``), every process with the real uid of
the job's slot (sample and judge uid), wherever it was reparented; on a host (the ``local``
executor, tests), the descendants of the processes the job's worker thread started (its steps, each
a session leader), found through ``/proc/self/task/<tid>/children``.

How much: for each process, ``utime + stime`` (its own, all threads) ``+ cutime + cstime`` (its
children it reaped) from ``/proc/<pid>/stat``. A process that is gone still counts with what it had
when last seen, unless its parent then was one of the job's (that parent's ``cutime`` now holds it,
once reaped: counting both would charge it twice, and an overcount would be a lie). Processes are
keyed by (pid, start time), so a reused pid is a new process.

What escapes, and why that is bounded: (1) a process's CPU between its last sampling and its end
(at most one ``interval`` per process, e.g. children of a fork storm that each live < interval);
(2) children reaped by a parent that ignores SIGCHLD (the kernel adds them to nobody's ``cutime``);
(3) on a host only, an orphan reparented outside the tree (in a container the uid finds it).
All of it is undercounting: a sample is never stopped for CPU it did not use; what escapes is
stopped by the job's wall-clock limit, which stays, and by the container's CPU quota.
Standard library only.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

from . import proc

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
MIN_INTERVAL_S = 0.005
MAX_INTERVAL_S = 0.025


def interval_for(limit_s: float) -> float:
    """How often to sample: ~1/50 of the limit (so a kill comes < 2% late), 5 to 25 ms."""
    return min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, limit_s / 50))


def parse_stat(data: bytes) -> tuple[int, int, float, float]:
    """(ppid, start time in ticks, own CPU seconds, reaped children's CPU seconds) from the text of
    /proc/<pid>/stat. ValueError when it does not parse. The command name (field 2) may hold spaces
    and parentheses: fields are counted after its last ')'."""
    rest = data[data.rindex(b")") + 2 :].split()
    # rest[0] is field 3 (state): field n is rest[n - 3].
    ppid = int(rest[1])
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    start = int(rest[19])
    return ppid, start, (utime + stime) / TICK, (cutime + cstime) / TICK


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb", buffering=0) as f:
            return f.read()
    except OSError:
        return None


def pids_of_uids(uids: frozenset[int]) -> Iterator[int]:
    """Pids whose real uid is one of ``uids`` (a /proc scan; zombies too: their times still show)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        data = proc.read_status(name)
        if data is None:
            continue
        try:
            _, _, uid = proc.parse_status(data)
        except ValueError:
            continue
        if uid in uids:
            yield int(name)


def descendants_of_task(tid: int) -> Iterator[int]:
    """Children of thread ``tid`` of this process, and all their descendants (CONFIG_PROC_CHILDREN)."""
    todo = [f"/proc/self/task/{tid}/children"]
    while todo:
        data = _read(todo.pop())
        for pid in (data or b"").split():
            yield int(pid)
            # A child's threads may have children of their own: each thread has its own list.
            try:
                todo += [f"/proc/{int(pid)}/task/{t}/children" for t in os.listdir(f"/proc/{int(pid)}/task")]
            except OSError:
                continue


class Watch:
    """The CPU time of one job's processes, sampled until ``stop``; kills them past ``limit_s``.

    Start it in the thread that runs the job (on a host it finds the job's processes through that
    thread's children). ``uids``: the slot's uids in a container, None on a host. ``limit_s`` None:
    only measure. ``exceeded`` is set before any kill, so a step killed for CPU reads as such.
    """

    def __init__(self, limit_s: float | None, uids: tuple[int, ...] | None) -> None:
        self.limit_s = limit_s
        self.uids = frozenset(uids) if uids else None
        self.tid = threading.get_native_id()
        self.interval = interval_for(limit_s if limit_s else 1.0)
        self.exceeded = False
        self.used_s = 0.0
        self._gone_s = 0.0  # what processes no longer seen had, when their time went nowhere
        self._seen: dict[tuple[int, int], tuple[int, float]] = {}  # (pid, start) -> (ppid, cpu incl. reaped)
        self._ever: set[int] = set()  # every pid of the job seen so far
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hel-cputime", daemon=True)

    def start(self) -> Watch:
        self._thread.start()
        return self

    def stop(self) -> float:
        """Stop sampling; the job's CPU seconds as far as they were seen. No last sample: the job's
        steps have ended by now, so /proc holds nothing more of them (what they used since the last
        sample is within what the module's docstring says escapes)."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=5.0)
        return self.used_s

    def _pids(self) -> Iterator[int]:
        return pids_of_uids(self.uids) if self.uids is not None else descendants_of_task(self.tid)

    def sample(self) -> float:
        """Read every process of the job once; returns (and keeps in ``used_s``) the job's CPU seconds."""
        live: dict[tuple[int, int], tuple[int, float]] = {}
        for pid in self._pids():
            data = _read(f"/proc/{pid}/stat")
            if data is None:
                continue
            try:
                ppid, start, own, reaped = parse_stat(data)
            except (ValueError, IndexError):
                continue
            live[(pid, start)] = (ppid, own + reaped)
        self._ever.update(pid for pid, _ in live)
        for key, (ppid, cpu) in self._seen.items():
            # Gone: its time stays counted unless a process of the job was its parent (whose
            # cutime holds it once reaped; see the module's docstring).
            if key not in live and ppid not in self._ever:
                self._gone_s += cpu
        self._seen = {k: v for k, v in self._seen.items() if k in live}
        self._seen.update(live)
        self.used_s = max(self.used_s, self._gone_s + sum(cpu for _, cpu in live.values()))
        return self.used_s

    def _loop(self) -> None:
        # The first sample after one interval: a job that ends sooner (most Python samples) costs
        # no /proc scan at all.
        while not self._stop.wait(self.interval):
            if self.sample() > (self.limit_s or float("inf")):
                self.exceeded = True
                self._kill()
                return

    def _kill(self) -> None:
        # SIGKILL every process of the job seen last (each step's group too): its step's wait then
        # returns, and the verdict reads ``exceeded``. A process started since is caught by the
        # slot's cleanup after the job (container) or by its group's kill (host).
        for pid, _ in list(self._seen):
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
