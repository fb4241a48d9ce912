"""remove_stale_containers: only containers of dead runs on this host are removed."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

from humaneval_lab.execution.docker import HOST_LABEL, OWNER_LABEL, RUN_LABEL, remove_stale_containers


class _Container:
    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.name, self.labels, self.removed = name, labels, False

    def remove(self, force: bool = False) -> None:
        assert force
        self.removed = True


class _Containers:
    def __init__(self, items: list[_Container]) -> None:
        self.items = items

    def list(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[_Container]:
        assert all and filters == {"label": RUN_LABEL}
        return self.items


class _Client:
    def __init__(self, items: list[_Container]) -> None:
        self.containers = _Containers(items)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid  # reaped: no process has this pid now (pids are not reused this fast)


def test_only_dead_runs_of_this_host_are_removed() -> None:
    host, dead = socket.gethostname(), _dead_pid()
    items = [
        _Container("dead-here", {RUN_LABEL: "a", OWNER_LABEL: str(dead), HOST_LABEL: host}),
        _Container("alive-here", {RUN_LABEL: "b", OWNER_LABEL: str(os.getpid()), HOST_LABEL: host}),
        _Container("dead-elsewhere", {RUN_LABEL: "c", OWNER_LABEL: str(dead), HOST_LABEL: host + "-other"}),
        _Container("no-owner-here", {RUN_LABEL: "d", HOST_LABEL: host}),
        _Container("garbled-owner", {RUN_LABEL: "e", OWNER_LABEL: "x", HOST_LABEL: host}),
    ]
    assert remove_stale_containers(_Client(items)) == 3
    assert {c.name for c in items if c.removed} == {"dead-here", "no-owner-here", "garbled-owner"}
