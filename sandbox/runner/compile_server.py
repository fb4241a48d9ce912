"""A warm, trusted compiler per worker thread: what both ``javac`` and ``tsc`` servers share.

A language whose compiler is slow to start (a JVM, Node loading TypeScript and parsing its lib)
keeps one long-lived compiler process per worker that does what the job's compile argv would
have done. The job's ``compile`` argv stays the contract: a language module (``javac.py``,
``tsc.py``) turns the argv it recognises into a request, and the argv itself runs whenever the
server cannot answer (not started yet, died, crashed on a source, switched off).

Trust boundary (see guard.py for who runs as whom), the same for every server:

- it runs as COMPILER_UID, no job's or judge's uid and not root, with no capabilities; its stdin
  and stdout are pipes only the runner holds and its stderr goes nowhere, so no sample can open,
  signal or ptrace it (another uid) nor reach its channel (no path, no socket);
- it compiles in memory and never runs what it compiles: it returns output files' bytes, which the
  runner writes into the job's dir as the job's uid (``write_outputs``, never through a link);
- each compile has the job's deadline; past it, or on a malformed answer, the server is killed and
  the job's verdict is what a timed-out compile gets; the next job starts a fresh server (and
  compiles with the plain command until it is ready). Its CPU time is not the job's (the cputime
  watch counts the slot's uids): the wall deadline bounds it.

Wire (big-endian): the server says HELLO (int32) once ready. A request is the language's bytes; an
answer is ``status`` (int32), a diagnostics blob, a count (int32) and that many (name, bytes) blobs
(a blob: int32 length, then the bytes).

Standard library only.
"""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import proc
from .env import base_env

# The Node servers' side of this wire (tsc_server.py, node_judge_server.py): blocking reads of
# exactly n bytes from fd 0 (exit when the runner is gone) and whole writes to fd 1; a pipe the
# runner left non-blocking answers EAGAIN, waited out 1 ms at a time.
WIRE_JS = r"""const sleeper = new Int32Array(new SharedArrayBuffer(4));

function readExact(n) {
  const buf = Buffer.alloc(n);
  let off = 0;
  while (off < n) {
    let got;
    try {
      got = fs.readSync(0, buf, off, n - off, null);
    } catch (e) {
      if (e.code === 'EAGAIN') { Atomics.wait(sleeper, 0, 0, 1); continue; }
      throw e;
    }
    if (got === 0) process.exit(0); // the runner is gone
    off += got;
  }
  return buf;
}
function writeAll(buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      if (e.code === 'EAGAIN') { Atomics.wait(sleeper, 0, 0, 1); continue; }
      throw e;
    }
  }
}
"""


COMPILER_UID = 10002
HELLO = 0x48454C31
BOOT_TIMEOUT_S = 60.0  # a server that has not said hello by then is killed (a loaded host takes ~8 s)
_home_lock = threading.Lock()  # two workers' servers starting at once write their source once


@dataclass(frozen=True)
class Spec:
    """One kind of server: ``argv``, then ``main``'s path (written root-owned into ``home``,
    which is also its cwd), then ``extra``, start it; ``statuses`` are the answers it may give, ``crashed`` the one meaning "run the
    plain command"; ``names`` matches every output name it may return (at most ``max_outputs``);
    ``files`` are more (relative path, text) written root-owned beside ``main``."""

    kind: str
    home: str
    main: str
    source: str
    argv: tuple[str, ...]
    statuses: frozenset[int]
    crashed: int
    names: re.Pattern[str]
    extra: tuple[str, ...] = ()
    max_outputs: int = 4096
    max_output_bytes: int = 1 << 26
    files: tuple[tuple[str, str], ...] = ()
    uid: int = 0  # the uid it runs as in the sandbox; 0: COMPILER_UID


class Server:
    """The runner's handle on one server process, used by one worker thread."""

    def __init__(self, spec: Spec, uid: int | None) -> None:
        self.spec = spec
        self.ready = False
        path = os.path.join(spec.home, spec.main)
        with _home_lock:
            os.makedirs(spec.home, mode=0o755, exist_ok=True)
            st = os.lstat(spec.home)
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                raise OSError(f"{spec.home} is not ours")
            for name, text in ((spec.main, spec.source), *spec.files):
                target = os.path.join(spec.home, name)
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                with open(target + ".new", "w", encoding="utf-8") as f:
                    f.write(text)
                os.chmod(target + ".new", 0o644)
                os.replace(target + ".new", target)
        drop: dict[str, Any] = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
        self.proc = subprocess.Popen(
            [*spec.argv, path, *spec.extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=spec.home, env=base_env(spec.home, {}), start_new_session=True, **drop,
        )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self._in, False)  # a server that stops reading must not block us past a deadline
        self._booted = threading.Event()  # set once it said hello, or failed to
        threading.Thread(target=self._hello, daemon=True).start()

    def _hello(self) -> None:
        try:
            (hello,) = struct.unpack(">i", self._read(4, time.monotonic() + BOOT_TIMEOUT_S))
            self.ready = hello == HELLO
        except OSError:  # TimeoutError included
            self.close()
        finally:
            self._booted.set()

    def wait_ready(self, until: float) -> bool:
        """Whether it is ready, waiting for its start until ``until`` (monotonic) at most."""
        self._booted.wait(max(0.0, until - time.monotonic()))
        return self.ready

    def running(self) -> bool:
        return self.proc.poll() is None

    def threads(self) -> int:
        """Its tasks now (each counts in the container's pids cgroup); 0 once it is gone."""
        data = proc.read_status(self.proc.pid) if self.running() else None
        m = re.search(rb"\nThreads:\s*(\d+)", data or b"")
        return int(m.group(1)) if m else 0

    def _read(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise TimeoutError("the compile server did not answer in time")
            chunk = os.read(self._out, min(n - len(buf), 1 << 20))
            if not chunk:
                raise OSError("the compile server is gone")
            buf += chunk
        return bytes(buf)

    def _blob(self, deadline: float, cap: int) -> bytes:
        (n,) = struct.unpack(">i", self._read(4, deadline))
        if not 0 <= n <= cap:
            raise OSError("the compile server answered nonsense")
        return self._read(n, deadline)

    def send(self, request: bytes, deadline: float) -> None:
        """Write ``request``; TimeoutError past ``deadline``, OSError when gone (then killed)."""
        try:
            write_all(self._in, request, deadline)
        except BaseException:
            self.close()
            raise

    def readable(self, until: float) -> bool:
        """Whether it has started an answer, waiting until ``until`` (monotonic) at most."""
        left = max(0.0, until - time.monotonic())
        return bool(select.select([self._out], [], [], left)[0])

    def read_int(self, deadline: float) -> int:
        """One int32 of its answer; TimeoutError past ``deadline``, OSError when gone (then killed)."""
        try:
            value: int = struct.unpack(">i", self._read(4, deadline))[0]
        except BaseException:
            self.close()
            raise
        return value

    def ask(self, request: bytes, deadline: float, cap: int) -> tuple[int, bytes, dict[str, bytes]]:
        """(status, diagnostics cut to ``cap`` bytes, {output name: bytes}) for one request.

        Raises TimeoutError past ``deadline`` and OSError when the server is gone or misbehaves;
        either way the server is killed (the caller drops it).
        """
        self.send(request, deadline)
        return self.answer(deadline, cap)

    def answer(self, deadline: float, cap: int) -> tuple[int, bytes, dict[str, bytes]]:
        """The rest of ``ask``: what it answered to the request already sent."""
        spec = self.spec
        try:
            (status,) = struct.unpack(">i", self._read(4, deadline))
            diag = self._blob(deadline, 1 << 24)[:cap]
            (count,) = struct.unpack(">i", self._read(4, deadline))
            if status not in spec.statuses or not 0 <= count <= spec.max_outputs:
                raise OSError("the compile server answered nonsense")
            outputs: dict[str, bytes] = {}
            for _ in range(count):
                name = self._blob(deadline, 1 << 12).decode("utf-8", "surrogateescape")
                if not spec.names.fullmatch(name):
                    raise OSError("the compile server named an output it cannot have made")
                outputs[name] = self._blob(deadline, spec.max_output_bytes)
        except BaseException:
            self.close()
            raise
        return status, diag, outputs

    def close(self) -> None:
        self.ready = False
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


def blob(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    view = memoryview(data)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise TimeoutError("the compile server did not read in time")
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue


def write_outputs(workdir: str, outputs: dict[tuple[str, ...], bytes], owner: int | None) -> None:
    """Write each output at its path (its parts) below ``workdir``, dirs made as needed, as ``owner``.

    Nothing of the job has run yet (the compile is its first step), yet every open refuses a link.
    The parts come from a checked name: none is empty, ``.`` or ``..``, or holds a ``/``.
    """
    for parts, data in outputs.items():
        fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for part in parts[:-1]:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, owner, owner, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
                sub = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = sub
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            out = os.open(parts[-1], flags, 0o644, dir_fd=fd)
            try:
                if owner is not None:
                    os.fchown(out, owner, owner)
                write_all(out, data)
            finally:
                os.close(out)
        finally:
            os.close(fd)


def log(kind: str, what: str) -> None:
    """One line on the runner's stderr (the container's log): which compiler judged a job."""
    sys.stderr.write(f"runner: {kind} server: {what}\n")
    sys.stderr.flush()


def serve(
    ctx: Any, spec: Spec, request: bytes, deadline: float, cap: int
) -> tuple[int, bytes, dict[str, bytes]] | dict[str, Any] | None:
    """One compile by this worker's ``spec`` server: its (status, diagnostics, outputs); a timed-out
    step's result (``steps.run_step``'s shape) past the deadline; None when the job's plain command
    must run instead (no server, not ready in time, gone, crashed)."""
    server = ctx.compiler(spec)
    # A worker's first job of the language waits for the start (about one plain compile), at most
    # half its time: then the plain command still has the other half.
    if server is None or not server.wait_ready(time.monotonic() + (deadline - time.monotonic()) / 2):
        return None
    try:
        status, diag, outputs = server.ask(request, deadline, cap)
    except TimeoutError:
        ctx.drop_compiler(spec)
        log(spec.kind, "a compile ran past the job's deadline; server killed, restarted for the next job")
        return {**_RESULT, "rc": None, "timed_out": True, "stdout": b"", "stderr": b""}
    except OSError as exc:
        ctx.drop_compiler(spec)
        log(spec.kind, f"{exc}; the plain command for this job, server restarted for the next")
        return None
    if status == spec.crashed:
        log(spec.kind, f"the compiler failed ({diag[:200].decode('utf-8', 'replace')}); the plain command")
        return None
    return status, diag, outputs


_RESULT: dict[str, Any] = {"rc": 0, "timed_out": False, "overflow": False, "incomplete": False, "oom": False}


def result(rc: int, stdout: bytes, stderr: bytes) -> dict[str, Any]:
    """A finished compile step's result in ``steps.run_step``'s shape."""
    return {**_RESULT, "rc": rc, "stdout": stdout, "stderr": stderr}
