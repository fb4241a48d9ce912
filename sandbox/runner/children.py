"""The runner's handles on its trusted helper processes: the zygote and the warm testers.

Both processes run a module of this package (``zygote``, ``tester``), started through ``boot``
with only the modules they need. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import threading
from typing import Any

from . import boot, proc, wire
from .env import SEEDED_ISOLATION, base_env


class Sabotage(Exception):
    """The runner's own processes (zygote, a tester) were killed or stopped."""


def _start_helper(module: str, fd: int, env: dict[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    p = subprocess.Popen(
        boot.helper_argv(sys.executable, SEEDED_ISOLATION, module, str(fd)),
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=None, pass_fds=(fd,), env=env, **popen,
    )  # fmt: skip
    assert p.stdin is not None
    try:
        p.stdin.write(boot.helper_input(module))  # its modules, never the key
        p.stdin.close()
    except OSError:
        pass  # it died at once: the first request says so
    return p


class Zygote:
    """The runner's handle on its zygote process (see ``zygote``); thread-safe.

    ``workdir``: the first worker's work dir. The zygote starts with the environment a step there
    gets, so a child of that worker's jobs (the only one, by default) changes nothing.
    """

    def __init__(self, workdir: str = "/", preload: str = "") -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = base_env(workdir, {})  # the zygote's own, once it has read HEL_PRELOAD
        self.proc = _start_helper("zygote", child.fileno(), {**self.env, "HEL_PRELOAD": preload})
        child.close()
        self.sock = parent
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._pids: list[dict[str, Any]] = []
        self._exits: dict[int, int] = {}
        self._harnesses: set[str] = set()  # sent already (the zygote keeps them)
        self._last: tuple[bytes, str] = (b"", "")  # the last harness and its sha256
        self._abandoned: set[int] = set()  # killed children whose exit status nobody needs
        self.alive = True
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = json.loads(line)
                    with self._cond:
                        if "exit" in msg:
                            if msg["exit"] in self._abandoned:
                                self._abandoned.discard(msg["exit"])
                            else:
                                self._exits[msg["exit"]] = msg["rc"]
                        else:
                            self._pids.append(msg)
                        self._cond.notify_all()
        except OSError:
            pass
        with self._cond:
            self.alive = False
            self._cond.notify_all()

    def running(self) -> bool:
        return self.proc.poll() is None and proc.running(self.proc.pid)

    def spawn(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        lim: dict[str, Any],
        fds: list[int],
        harness: bytes | None = None,
        uid: int | None = None,
        exec_: bool = False,
    ) -> int:
        """Fork a child; returns its pid. ``fds`` become its fds 0, 1, 2, 3, ...

        The child drops to ``uid`` first, then ``exec``s ``argv`` (``exec_``) or runs ``argv[2:]``
        like ``python3 -I`` in-process. ``harness``: the source of the script ``argv[2]`` names (ours,
        trusted); the child calls its ``main(argv)`` from the zygote's once-run copy.
        """
        req: dict[str, Any] = {"argv": argv if exec_ else argv[2:], "cwd": cwd, "limits": lim, "uid": uid}
        if exec_:
            req["exec"] = True
        if env != self.env:
            req["env"] = env
        if harness is not None:
            if harness != self._last[0]:  # the same driver, job after job: hash it once
                self._last = (harness, hashlib.sha256(harness).hexdigest())
            req["harness"] = sha = self._last[1]
            if sha not in self._harnesses:
                req["harness_source"] = harness.decode()
                self._harnesses.add(sha)
        return self._request(req, fds)

    def _request(self, req: dict[str, Any], fds: list[int]) -> int:
        with self._lock:
            socket.send_fds(self.sock, [json.dumps(req).encode()], fds)
            with self._cond:
                if not self._cond.wait_for(lambda: self._pids or not self.alive, timeout=30):
                    raise OSError("zygote did not answer")
                if not self._pids:
                    raise OSError("zygote died")
                msg = self._pids.pop(0)
        if msg["pid"] is None:
            raise OSError(msg.get("error", "fork failed"))
        return int(msg["pid"])

    def reap(self, uid: int) -> bool:
        """Kill every process of ``uid`` and remove its IPC objects (a child does it as that uid);
        whether it finished."""
        pid = self._request({"reap": uid, "limits": {}, "argv": [], "cwd": "/"}, [])
        return self.wait(pid, 10.0) == 0

    def abandon(self, pid: int) -> None:
        """Forget a (killed) child: its exit status will not be waited for."""
        with self._cond:
            if self._exits.pop(pid, None) is None:
                self._abandoned.add(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits or not self.alive, timeout=timeout)
            return self._exits.pop(pid, None)


class Tester:
    """One long-lived trusted test process (see ``tester``), used by one worker thread.

    It runs the tests of one job at a time against a candidate started from the zygote; only plain
    values cross between them. ``uid``: in the sandbox, the tester uid, which no sample shares.
    """

    def __init__(self, sources: tuple[bytes, bytes], seed: str, uid: int | None) -> None:
        self.sources = sources  # hel_pydriver.py, hel_pytests.py
        self.seed = seed  # PYTHONHASHSEED: the tests' hash secret, fixed at its start
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        drop: dict[str, Any] = {}
        if uid is not None:
            drop = {"user": uid, "group": uid, "extra_groups": []}
        env = base_env("/", {"PYTHONHASHSEED": seed})
        self.proc = _start_helper("tester", child.fileno(), env, cwd="/", **drop)
        child.close()
        self.sock = parent
        for source in sources:
            wire.write_frame(self.sock, source)

    def running(self) -> bool:
        return self.proc.poll() is None and proc.running(self.proc.pid)

    def send(self, tests: bytes, fds: list[int]) -> None:
        """Ask for ``tests`` (JSON) to run against the candidate whose call pipes are ``fds``."""
        try:
            wire.write_frame(self.sock, tests, fds)
        except OSError:
            raise Sabotage("the test process is gone") from None

    def answer(self) -> dict[str, Any]:
        """The answer, once the socket is readable: ``{"passed", "gone", "stderr"}``."""
        self.sock.settimeout(10.0)
        try:
            body, _ = wire.read_frame(self.sock, limit=1 << 20)
            answer = json.loads(body)
        except (OSError, EOFError, ValueError):
            raise Sabotage("the test process is gone") from None
        if not isinstance(answer, dict):
            raise Sabotage("the test process answered nonsense")
        return answer

    def close(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.sock.close()
