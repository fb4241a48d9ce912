"""The runner's framing, sealing and bundle, on the host (no Docker)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from humaneval_lab.sandbox.runner import boot, wire

from humaneval_lab.execution import docker as docker_mod

KEY = bytes(range(32))
RUNNER = Path(boot.__file__).parent


def test_seal_round_trips_any_text() -> None:
    msg = {"id": "HumanEval/0#3", "outcome": {"status": "passed", "stderr_tail": "é \ud800 \n"}}
    line = wire.seal(KEY, msg)
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # one line whatever the text
    assert wire.unseal(KEY, line) == msg


@pytest.mark.parametrize(
    "tamper",
    [
        lambda line: line.replace(b'"passed"', b'"failed"'),  # the body
        lambda line: (b"0" if line[:1] != b"0" else b"1") + line[1:],  # the mac
        lambda line: line.split(b" ", 1)[1],  # no mac at all
        lambda line: b" " + line,  # an empty mac
        lambda line: line[: wire.MAC_HEX] + b" " + line,  # a mac and a line as body
    ],
)
def test_unseal_refuses_a_tampered_line(tamper: object) -> None:
    line = wire.seal(KEY, {"id": "a", "outcome": {"status": "passed"}})
    with pytest.raises(ValueError):
        wire.unseal(KEY, tamper(line))  # type: ignore[operator]


def test_unseal_refuses_another_key() -> None:
    with pytest.raises(ValueError, match="bad mac"):
        wire.unseal(bytes(32), wire.seal(KEY, {"ready": True}))


def test_frames_carry_payloads_and_fds() -> None:
    a, b = socket.socketpair()
    r, w = os.pipe()
    try:
        wire.write_frame(a, b"x" * 100_000, [r])
        wire.write_frame(a, b"")
        body, fds = wire.read_frame(b, maxfds=2)
        assert body == b"x" * 100_000 and len(fds) == 1
        os.write(w, b"through the fd")
        assert os.read(fds[0], 100) == b"through the fd"
        os.close(fds[0])
        assert wire.read_frame(b) == (b"", [])
        a.close()
        with pytest.raises(EOFError):
            wire.read_frame(b)
    finally:
        for s in (a, b):
            s.close()
        os.close(r)
        os.close(w)


def test_a_frame_cut_short_or_too_long_is_refused() -> None:
    a, b = socket.socketpair()
    try:
        a.sendall(wire.HEAD.pack(10) + b"12345")
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(EOFError):
            wire.read_frame(b)
    finally:
        a.close()
        b.close()
    a, b = socket.socketpair()
    try:
        a.sendall(wire.HEAD.pack(1 << 21))
        with pytest.raises(ValueError, match="more than"):
            wire.read_frame(b, limit=1 << 20)
    finally:
        a.close()
        b.close()


def test_read_exact_ends_with_eof() -> None:
    chunks = [b"ab", b"c", b""]
    assert wire.read_exact(lambda n: chunks.pop(0), 3) == b"abc"
    with pytest.raises(EOFError):
        wire.read_exact(lambda n: b"", 1)


def test_the_bundle_is_every_runner_module() -> None:
    bundle = json.loads(docker_mod.runner_source())
    files = {p.stem for p in RUNNER.glob("*.py")} - {"__init__"}
    assert set(bundle) == files
    assert all(bundle[m] == (RUNNER / f"{m}.py").read_text(encoding="utf-8") for m in files)


def test_the_bundle_runs_from_memory_with_no_runner_file(tmp_path: Path) -> None:
    """What the container does with the bundle (BOOTSTRAP, in a bare interpreter in an empty dir):
    the package loads from memory, its modules have no file, and it serves sealed lines."""
    src = docker_mod.runner_source()
    jobs = wire.seal(KEY, {"stats": True}) + wire.seal(KEY, {"shutdown": True})
    probe = "import hel.zygote, hel.tester\nassert not hasattr(hel.zygote, '__file__')\n"
    serve = "hel.serve.serve(int(sys.argv[1]), '/work', True)\n"
    assert boot.BOOTSTRAP.endswith(serve)
    local = boot.BOOTSTRAP.replace(serve, probe + "hel.serve.serve(1, None, False)\n")  # no zygote here
    p = subprocess.run(
        [sys.executable, "-I", "-c", local],
        input=str(len(src)).encode() + b"\n" + src + KEY.hex().encode() + b"\n" + jobs,
        capture_output=True, cwd=tmp_path, timeout=60, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert p.returncode == 0, p.stderr.decode()
    lines = [wire.unseal(KEY, line) for line in p.stdout.splitlines(keepends=True)]
    assert lines[0]["ready"] is True and lines[0]["zygote"] is False
    assert lines[1] == {"stats": {"strays_killed": 0, "files_swept": 0, "ipc_removed": 0}}
    assert list(tmp_path.iterdir()) == []


def test_a_helper_gets_only_the_modules_it_needs() -> None:
    """The zygote's modules are in every forked sample's memory: only what it runs goes there."""
    assert set(json.loads(boot.helper_input("zygote"))) == {"boot", "limits", "proc", "zygote"}
    assert set(json.loads(boot.helper_input("tester"))) == {"boot", "wire", "tester"}
