"""The explicitly UNSAFE local executor: runs model-written code on this machine, one process each.

Limits apply (wall-clock timeout with a kill of the process group, CPU seconds, file size, open files,
output caps), but nothing stops a completion from reading or deleting your files or using the network.
Use it only for trusted samples or inside a throwaway machine; ``--sandbox docker`` is the default.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from humaneval_lab.errors import ConfigError
from humaneval_lab.execution.base import Job, Outcome, judge_sha256
from humaneval_lab.sandbox.runner.judge import execute_job

WARNING = "--sandbox local runs untrusted model-written code directly on this machine, without isolation"


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise ConfigError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self._tmp = tempfile.TemporaryDirectory(prefix="hel-local-")

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        pending: set[Future[dict[str, object]]] = set()
        ids: dict[Future[dict[str, object]], str] = {}
        source = iter(jobs)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            exhausted = False
            while True:
                while not exhausted and len(pending) < 2 * self.jobs:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    fut = pool.submit(execute_job, job.to_wire(), self._tmp.name)
                    pending.add(fut)
                    ids[fut] = job.id
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield ids.pop(fut), Outcome.from_wire(fut.result())

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "judge_sha256": judge_sha256(), "isolation": "none"}

    def close(self) -> None:
        self._tmp.cleanup()
