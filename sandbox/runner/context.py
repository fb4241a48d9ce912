"""What a runner is: an explicit context every step receives (no module globals switch behaviour).

``Context.local()`` is the host's (the ``local`` executor, tests): plain subprocesses, no zygote,
no uid switching, no cleanup guard. ``serve`` builds the container's: a zygote, a guard, uids per
worker slot when started as root. Standard library only.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

from . import compile_server
from .children import Tester, Zygote
from .env import PYTHON_HASH_SEED
from .guard import TESTER_UID, Guard, uids


@dataclass
class Context:
    """``contained``: alone in a sandbox container (OOM kills are told by the cgroup's counter);
    ``ids``: every job process runs under a uid of its slot; ``shared``: other samples may run
    beside ours (more than one worker)."""

    contained: bool = False
    ids: bool = False
    shared: bool = False
    zygote: Zygote | None = None
    guard: Guard | None = None
    _slot: threading.local = field(default_factory=threading.local)
    _slots: itertools.count[int] = field(default_factory=itertools.count)
    _testers: threading.local = field(default_factory=threading.local)
    all_testers: set[Tester] = field(default_factory=set)
    _compilers: threading.local = field(default_factory=threading.local)
    all_compilers: set[compile_server.Server] = field(default_factory=set)

    @classmethod
    def local(cls) -> Context:
        return cls()

    def slot(self) -> int:
        """This worker thread's number n (work dir <root>/job<n>, uids of slot n)."""
        n: int | None = getattr(self._slot, "n", None)
        if n is None:
            n = self._slot.n = next(self._slots)
        return n

    def uids(self, slot: int) -> tuple[int | None, int | None]:
        """(sample uid, judge uid) of ``slot``; (None, None) when this runner switches no uid."""
        return uids(slot) if self.ids else (None, None)

    def tester(self, sources: tuple[bytes, bytes], seed: str = "") -> Tester:
        """This worker thread's warm tester, started on first use (or anew after a kill, or for
        another hash seed: Python fixes its hash secret when it starts)."""
        seed = seed or PYTHON_HASH_SEED
        t: Tester | None = getattr(self._testers, "tester", None)
        if t is None or t.sources != sources or t.seed != seed:
            self.drop_tester()
            t = self._testers.tester = Tester(sources, seed, TESTER_UID if self.ids else None)
            self.all_testers.add(t)
        return t

    def drop_tester(self) -> None:
        t: Tester | None = getattr(self._testers, "tester", None)
        if t is not None:
            self.all_testers.discard(t)
            t.close()
            self._testers.tester = None

    def compiler(self, spec: compile_server.Spec) -> compile_server.Server | None:
        """This worker thread's warm compiler of ``spec``'s kind, started on first use (or anew
        after a drop, or for another ``spec`` of that kind); None when it cannot start."""
        mine = self._my_compilers()
        c = mine.get(spec.kind)
        if c is not None and (not c.running() or (c.spec is not spec and c.spec != spec)):
            self.drop_compiler(spec)
            c = None
        if c is None:
            try:
                c = compile_server.Server(
                    spec, (spec.uid or compile_server.COMPILER_UID) if self.ids else None
                )
            except OSError as exc:
                compile_server.log(spec.kind, f"cannot start: {exc}")
                return None
            mine[spec.kind] = c
            self.all_compilers.add(c)
        return c

    def drop_compiler(self, spec: compile_server.Spec) -> None:
        c = self._my_compilers().pop(spec.kind, None)
        if c is not None:
            self.all_compilers.discard(c)
            c.close()

    def _my_compilers(self) -> dict[str, compile_server.Server]:
        """This worker thread's warm compilers, by kind."""
        mine: dict[str, compile_server.Server] = self._compilers.__dict__.setdefault("by_kind", {})
        return mine

    def helpers(self) -> int:
        """Our trusted tasks beside the jobs: the zygote, the testers, the compilers' threads."""
        return (
            (1 if self.zygote is not None else 0)
            + len(self.all_testers)
            + sum(c.threads() for c in list(self.all_compilers))
        )

    def intact(self) -> bool:
        """Whether the zygote and every tester still run; checked after each job, before its verdict.

        No sample can signal them (other uids); the kernel's OOM killer still can.
        """
        return (self.zygote is None or self.zygote.running()) and all(
            t.running() for t in list(self.all_testers)
        )
