"""The warm Java compiler: one trusted JVM per worker thread doing what ``javac`` per job did.

Java's compile step (``javac ... -d . X.java ...``, see humaneval_lab/languages/java.py) costs a
JVM start and JIT warm-up per job; a long-lived ``javax.tools`` compiler (``javac_server``) does the
same compile in a fraction of it. The job's ``compile`` argv stays the contract: the runner hands the
server the very sources and class path that argv names, and runs the argv itself whenever the server
cannot answer (not started yet, died, crashed on a source); ``HEL_JAVAC_SERVER=0`` turns it off.

Trust boundary (see guard.py for who runs as whom):

- the server runs as COMPILER_UID, no job's or judge's uid and not root, with no capabilities; its
  stdin and stdout are pipes only the runner holds and its stderr goes nowhere, so no sample can
  open, signal or ptrace it (another uid) nor reach its channel (no path, no socket);
- it compiles in memory (no ``-d``, no file written) with ``-proc:none``, so no candidate code runs
  in it at compile time; it returns class bytes, which the runner writes into the job's dir as the
  job's uid would have (``write_classes``): the server needs no access to any job dir;
- each compile has the job's deadline; past it, or on a malformed answer, the server is killed and
  the job's verdict is what a timed-out ``javac`` gets; the next job starts a fresh server (and
  compiles with plain ``javac`` until it is ready). Its CPU time is not the job's (the cputime
  watch counts the slot's uids): the wall deadline bounds it.

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
from typing import Any

from . import proc
from .env import base_env
from .javac_server import SERVER_JAVA

COMPILER_UID = 10002
HELLO = 0x48454C31
# Server.java's home: /work is root's (0711); a sample can create nothing at its top level.
HOME = "/work/.hel-javac"
# Few threads (each counts in the pids cgroup the guard checks exactly), none started later.
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CICompilerCount=1",
    "-XX:-UseDynamicNumberOfCompilerThreads",
    "-XX:-UsePerfData",  # no /tmp/hsperfdata file
    "-XX:+DisableAttachMechanism",
    "-Xmx256m",
    "-Xss8m",  # javac recurses on deeply nested expressions
)
_CLASS_NAME = re.compile(r"[^./\x00]{1,200}(\.[^./\x00]{1,200}){0,20}")
_MAX_CLASSES = 4096
BOOT_TIMEOUT_S = 60.0  # a JVM that has not said hello by then is killed (a loaded host takes ~8 s)
_home_lock = threading.Lock()  # two workers' servers starting at once write Server.java once


def enabled() -> bool:
    return os.environ.get("HEL_JAVAC_SERVER", "1") != "0"


def request_of(argv: list[str]) -> tuple[str, list[str]] | None:
    """(class path, source files) when ``argv`` is a javac command the server does exactly: output
    to ``-d .``, only flags it applies itself; None otherwise (run the argv)."""
    if not argv or argv[0] != "javac":
        return None
    cp, out, sources = "", "", []
    args = iter(argv[1:])
    for a in args:
        if a in ("-cp", "-classpath", "--class-path"):
            cp = next(args, "")
        elif a == "-d":
            out = next(args, "")
        elif a == "-encoding":
            if next(args, "").upper() not in ("UTF-8", "UTF8"):
                return None
        elif a == "-nowarn" or a.startswith("-J"):
            continue
        elif a.endswith(".java") and not a.startswith("-"):
            sources.append(a)
        else:
            return None
    if out != "." or not sources:
        return None
    # The job's dir is not the server's: "." names nothing it may read, and all sources are given.
    return ":".join(p for p in cp.split(":") if p.startswith("/")), sources


class Compiler:
    """The runner's handle on one server process, used by one worker thread."""

    def __init__(self, uid: int | None, home: str = HOME) -> None:
        self.ready = False
        path = os.path.join(home, "Server.java")
        with _home_lock:
            os.makedirs(home, mode=0o755, exist_ok=True)
            st = os.lstat(home)
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                raise OSError(f"{home} is not ours")
            with open(path + ".new", "w", encoding="utf-8") as f:
                f.write(SERVER_JAVA)
            os.chmod(path + ".new", 0o644)
            os.replace(path + ".new", path)
        drop: dict[str, Any] = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
        self.proc = subprocess.Popen(
            ["java", *JVM_FLAGS, path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=home, env=base_env(home, {}), start_new_session=True, **drop,
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

    def compile(
        self, classpath: str, sources: dict[str, str], deadline: float, cap: int
    ) -> tuple[int, bytes, dict[str, bytes]]:
        """(0 compiled | 1 compile errors | 2 the compiler crashed, diagnostics, {binary name: bytes}).

        Raises TimeoutError past ``deadline`` and OSError when the server is gone or misbehaves;
        either way the server is killed (the caller drops it).
        """
        req = [struct.pack(">i", len(sources)), _blob(classpath.encode())]
        for name, text in sources.items():
            req += [_blob(name.encode()), _blob(text.encode("utf-8", "surrogatepass"))]
        try:
            _write_all(self._in, b"".join(req), deadline)
            (status,) = struct.unpack(">i", self._read(4, deadline))
            diag = self._blob(deadline, 1 << 24)[:cap]
            (count,) = struct.unpack(">i", self._read(4, deadline))
            if status not in (0, 1, 2) or not 0 <= count <= _MAX_CLASSES:
                raise OSError("the compile server answered nonsense")
            classes: dict[str, bytes] = {}
            for _ in range(count):
                name = self._blob(deadline, 1 << 12).decode("utf-8", "surrogateescape")
                if not _CLASS_NAME.fullmatch(name):
                    raise OSError("the compile server named a class it cannot have compiled")
                classes[name] = self._blob(deadline, 1 << 26)
        except BaseException:
            self.close()
            raise
        return status, diag, classes

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


def _blob(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


def _write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
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


def write_classes(workdir: str, classes: dict[str, bytes], owner: int | None) -> None:
    """Write class files where ``javac -d .`` would (``a/b/C$D.class`` for ``a.b.C$D``), as ``owner``.

    Nothing of the job has run yet (the compile is its first step), yet every open refuses a link.
    """
    for name, data in classes.items():
        parts = name.split(".")
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
            out = os.open(parts[-1] + ".class", flags, 0o644, dir_fd=fd)
            try:
                if owner is not None:
                    os.fchown(out, owner, owner)
                _write_all(out, data)
            finally:
                os.close(out)
        finally:
            os.close(fd)


def log(what: str) -> None:
    """One line on the runner's stderr (the container's log): which compiler judged a job."""
    sys.stderr.write(f"runner: javac server: {what}\n")
    sys.stderr.flush()


def compile_step(
    ctx: Any,
    argv: list[str],
    workdir: str,
    files: dict[str, str],
    lim: dict[str, Any],
    deadline: float,
    uid: int | None,
) -> dict[str, Any] | None:
    """The result of compile step ``argv`` (``steps.run_step``'s shape), done by the warm server;
    None when ``argv`` must run as it is (no server for it, not ready yet, gone, crashed)."""
    req = request_of(argv)
    if req is None or not ctx.contained or not enabled():
        return None
    classpath, names = req
    if not all(n in files for n in names):
        return None
    comp = ctx.compiler()
    # A worker's first Java job waits for the start (~1.3 s of CPU, about one plain javac), at
    # most half its time: then plain javac still has the other half.
    if comp is None or not comp.wait_ready(time.monotonic() + (deadline - time.monotonic()) / 2):
        return None
    res: dict[str, Any] = {"rc": 0, "timed_out": False, "overflow": False, "incomplete": False, "oom": False}
    try:
        status, diag, classes = comp.compile(
            classpath, {n: files[n] for n in names}, deadline, lim["output_bytes"]
        )
    except TimeoutError:
        ctx.drop_compiler()
        log("a compile ran past the job's deadline; server killed, restarted for the next job")
        return {**res, "rc": None, "timed_out": True, "stdout": b"", "stderr": b""}
    except OSError as exc:
        ctx.drop_compiler()
        log(f"{exc}; plain javac for this job, server restarted for the next")
        return None
    if status == 2:
        log(f"the compiler failed ({diag[:200].decode('utf-8', 'replace')}); plain javac for this job")
        return None
    if status == 0:
        write_classes(workdir, classes, uid)
    return {**res, "rc": status, "stdout": b"", "stderr": diag}
