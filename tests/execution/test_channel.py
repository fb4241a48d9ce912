"""The host<->runner channel as untrusted input: sealed lines, bounded, every message validated.

No Docker here: a box's reader is fed frames directly. (tests/sandbox/test_channel_docker.py runs a
runner that breaks the protocol in a real container.)
"""

from __future__ import annotations

import json
import queue
import struct
from typing import Any

import pytest
from humaneval_lab.sandbox.runner.wire import seal, unseal

from humaneval_lab.execution.base import Job, Limits, Program, Status
from humaneval_lab.execution.docker import MAX_LINE, ProtocolError, _Box

KEY = b"k" * 32


def test_sealed_lines_round_trip_and_refuse_tampering() -> None:
    line = seal(KEY, {"id": "a", "outcome": {"status": "passed"}})
    assert unseal(KEY, line) == {"id": "a", "outcome": {"status": "passed"}}
    mac, _, body = line.partition(b" ")
    for forged in (
        b"0" * len(mac) + b" " + body,  # a guessed mac
        mac + b" " + body.replace(b"passed", b"failed"),  # the body changed
        seal(b"x" * 32, json.loads(body)),  # another key
        body,  # no mac at all
    ):
        with pytest.raises(ValueError):
            unseal(KEY, forged)


class _Ex:
    host_cpus = 2

    def __init__(self) -> None:
        self._events: queue.Queue[Any] = queue.Queue()
        self.pinned: list[list[int]] = []

    def _pin(self, box: Any, cpus: list[int]) -> None:
        self.pinned.append(cpus)

    def _unpin(self, box: Any) -> None:
        pass


class _Raw:
    """Hands out docker's multiplexed frames (8-byte header, then data) like a socket."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.data = b"".join(struct.pack(">BBBBI", 1, 0, 0, 0, len(c)) + c for c in chunks)

    def recv(self, n: int) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        return out


def _box(chunks: list[bytes] = ()) -> _Box:  # type: ignore[assignment]
    box = object.__new__(_Box)
    box.ex = _Ex()  # type: ignore[assignment]
    box.key = KEY
    box.inflight = {"j1": Job("j1", Program("python", {}, ("true",)), Limits())}
    box.started = {}
    box.was_ready = False
    box.dead = False
    box.violation = ""
    box.stderr_tail = b""
    box.stats = {}
    box._raw = _Raw(list(chunks))
    box.kill = lambda: setattr(box, "dead", True)  # type: ignore[method-assign]
    import threading

    box.ready = threading.Event()
    return box


READY = {"ready": True, "cpus": [0, 1]}
OUTCOME = {"id": "j1", "outcome": {"status": "passed", "reason": "", "stderr_tail": "", "duration_s": 0.1}}


def _feed(box: _Box, *msgs: Any) -> None:
    for m in msgs:
        box._handle(seal(KEY, m).rstrip(b"\n") if isinstance(m, dict) else m)


def test_an_honest_exchange_yields_the_outcome() -> None:
    box = _box()
    _feed(box, READY, {"start": "j1"}, OUTCOME)
    kind, _, job_id, (outcome, solo) = box.ex._events.get_nowait()  # type: ignore[attr-defined]
    assert (kind, job_id, outcome.status, solo) == ("done", "j1", Status.PASSED, False)
    assert box.ex.pinned == [[0, 1]]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "msgs",
    [
        [b"no mac here"],
        [seal(b"x" * 32, READY).rstrip(b"\n")],
        [{"start": "j1"}],  # before ready
        [READY, READY],  # a second ready
        [{"ready": True, "cpus": [0, 7]}],  # a cpuset the host does not have
        [{"ready": True, "cpus": "0-1"}],
        [READY, {"start": "nope"}],  # a job not sent here
        [READY, {"start": "j1"}, {"start": "j1"}],
        [READY, OUTCOME],  # an outcome for a job that never started
        [READY, {"start": "j1"}, {"id": "j1", "outcome": {"status": "hacked"}}],  # an unknown status
        [READY, {"start": "j1"}, {"id": "j1", "outcome": {"status": "passed", "reason": 3}}],
        [READY, {"start": "j1"}, {"id": "j1", "outcome": "passed"}],
        [READY, {"launch": "missiles"}],  # an unknown message
        [READY, {}],
    ],
    ids=lambda m: repr(m)[:40],
)
def test_every_protocol_violation_is_refused(msgs: list[Any]) -> None:
    box = _box()
    with pytest.raises(ProtocolError):
        _feed(box, *msgs)
    assert box.ex._events.empty()  # type: ignore[attr-defined]


def test_a_violation_kills_the_box_and_never_raises() -> None:
    box = _box([seal(KEY, READY), b"garbage\n"])
    box._read()
    assert box.dead and "mac" in box.violation
    assert box.ex._events.get_nowait()[0] == "dead"  # type: ignore[attr-defined]


def test_a_host_side_error_in_the_reader_kills_the_box_instead_of_hanging_it() -> None:
    """The reader thread is the box's only listener: an error of ours (here, pinning) must not end
    it silently, leaving the box's jobs to hang until the watchdog."""
    box = _box([seal(KEY, READY)])

    def broken_pin(_box: Any, _cpus: list[int]) -> None:
        raise RuntimeError("engine client in a bad state")

    box.ex._pin = broken_pin  # type: ignore[attr-defined]
    box._read()
    assert box.dead and box.violation == "host: RuntimeError: engine client in a bad state"
    assert box.ex._events.get_nowait()[0] == "dead"  # type: ignore[attr-defined]


def test_a_line_without_end_is_bounded() -> None:
    """A runner that never ends its line costs the host at most MAX_LINE bytes, scanned once."""
    chunk = b"x" * 65536
    box = _box([seal(KEY, READY)] + [chunk] * (MAX_LINE // len(chunk) + 2))
    box._read()
    assert box.dead and "line of more than" in box.violation


def test_lines_split_across_frames_are_joined() -> None:
    line = seal(KEY, READY)
    box = _box([line[:10], line[10:20], line[20:] + seal(KEY, {"start": "j1"})])
    box._read()  # ends at EOF of the fake stream
    assert box.was_ready and "j1" in box.started and box.violation == ""
