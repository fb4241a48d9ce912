"""CPU pinning: each sandbox container on CPUs of its own, the least used ones.

Why: a Python sample's test process and candidate hand every call to each other, a context switch on
one CPU but an inter-processor wakeup across two (many times dearer on a VM). The host feeds whichever
container is free, so a CPU busy with something else only slows the container pinned there.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any, Protocol


class Pinnable(Protocol):
    id: str
    workers: int
    dead: bool
    cpus: list[int]  # what it is pinned to now (empty: unpinned)


class CpuPinner:
    """Hands out CPUs to containers, counting how many live containers sit on each CPU.

    ``apply(container_id, cpuset)`` asks the engine (``update_container``); ``refused`` is what it
    raises when it cannot (e.g. the cpuset controller is not delegated to it): from then on,
    containers run unpinned rather than not at all. Thread-safe: boxes pin from their reader threads.
    """

    def __init__(
        self,
        apply: Callable[[str, str], Any],
        refused: tuple[type[BaseException], ...],
        enabled: bool = True,
    ) -> None:
        self._apply, self._refused = apply, refused
        self.enabled = enabled
        self._load: collections.Counter[int] = collections.Counter()  # CPU -> live containers on it
        self._lock = threading.Lock()

    def pin(self, box: Pinnable, allowed: list[int]) -> None:
        """Pin ``box`` to the least used of the CPUs its runner may use (``allowed``), one per worker."""
        with self._lock:
            if not self.enabled or not allowed or box.dead:
                return
            chosen = sorted(allowed, key=lambda c: (self._load[c], c))[: box.workers]
            try:
                self._apply(box.id, ",".join(map(str, sorted(chosen))))
            except self._refused:
                self.enabled = False  # the engine cannot: run unpinned rather than not at all
                return
            box.cpus = chosen
            self._load.update(chosen)

    def unpin(self, box: Pinnable) -> None:
        """Give ``box``'s CPUs back (it died or was removed); idempotent."""
        with self._lock:
            self._load.subtract(box.cpus)
            box.cpus = []

    def load(self) -> dict[int, int]:
        """CPU -> containers pinned there now (for tests and reports)."""
        with self._lock:
            return {c: n for c, n in self._load.items() if n > 0}
