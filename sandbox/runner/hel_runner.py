"""Run one judged program, or serve many over stdio. Standard library only.

This file runs in two places: imported by the host's ``local`` executor, and inside the sandbox
container, where the host sends this very source over stdin and then one JSON job per line. Keeping
one implementation means a verdict means the same thing wherever it was reached.

Wire protocol (container): the host writes ``{"job": <Job as dict>}`` lines and ``{"shutdown": true}``;
the runner answers ``{"id": ..., "outcome": {...}}`` lines, in completion order, and ``{"ready": ...}``
once at start. A job may carry ``"keep": {file name: sha256}`` (keep that file's text under the
host's hash) and ``"shared": {file name: sha256}`` (that file's text is one kept earlier), so big
files that jobs repeat cross the pipe once or twice.

In the container (``serve(..., contained=True)``) the runner also:

- starts ``python3 -I script.py`` steps from a warm *zygote*: a clean interpreter started once, that
  never sees a job's data or token, and forks one child per step (a Python start costs ~20 ms of
  CPU, a fork ~1 ms; this is most of the sandbox's speed);
- after every job, kills processes that escaped their job's session (``setsid`` daemons) and removes
  files left in the writable scratch dirs (/tmp, /dev/shm, the job root) outside running jobs'
  work dirs, so nothing a sample leaves behind reaches a later sample;
- makes itself non-dumpable, so a sample (same uid) cannot read tokens out of /proc/<pid>/mem;
- tells an out-of-memory kill from another SIGKILL with the cgroup's oom_kill counter.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

TAIL = 2000  # bytes of stderr kept in a verdict
INFRA_EXIT = 75  # a trusted driver could not do its job (e.g. fork failed); with the token: retry
# Extra cache dirs (colon-separated, e.g. GOCACHE/CARGO_HOME under /tmp) that persist across jobs
# within one container for speed; the sweeper leaves them alone. They are NOT per-job work dirs.
CACHE_DIRS_ENV = "HEL_CACHE_DIRS"


def _tail(b: bytes, n: int = TAIL) -> str:
    return b[-n:].decode("utf-8", "replace")


def set_non_dumpable() -> None:
    """PR_SET_DUMPABLE=0: same-uid processes can no longer ptrace us or read /proc/<pid>/mem, fd, environ."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _apply_limits(lim: dict[str, Any]) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_size_bytes"], lim["file_size_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"]))
    if lim.get("address_space_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (lim["address_space_bytes"], lim["address_space_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class _Capped:
    """Reads a stream to EOF, keeping at most ``cap`` bytes; calls ``on_overflow`` once past it."""

    def __init__(self, stream: Any, cap: int, on_overflow: Any) -> None:
        self.data = bytearray()
        self.overflow = False
        self._stream, self._cap, self._cb = stream, cap, on_overflow
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            while True:
                chunk = (
                    self._stream.read1(65536) if hasattr(self._stream, "read1") else self._stream.read(65536)
                )
                if not chunk:
                    return
                if len(self.data) < self._cap:
                    self.data += chunk[: self._cap - len(self.data)]
                elif not self.overflow:
                    self.overflow = True
                    self._cb()
        except (OSError, ValueError):
            return


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ------------------------------------------------------------------------------------------ zygote

# The zygote: a clean interpreter that forks one child per ``python3 -I script`` step. It never
# receives a job's files, tests or token (only a path, argv, env and limits), so a forked sample
# finds nothing secret in its inherited memory. One request per datagram with the child's fds
# attached as SCM_RIGHTS (stdio, then a warm candidate's call pipes and code); it answers
# {"pid": ...} in request order and {"exit": pid, "rc": ...} when a child ends (rc < 0: killed by
# that signal, as subprocess reports it).
#
# A request may name a *harness* (our own trusted script, e.g. hel_pydriver.py, by sha256; its
# source comes along the first time): the zygote runs its top level once and each child just calls
# its ``main(argv)``, so a child does not define the harness's functions again (copy-on-write page
# faults: ~2 ms a child). Harnesses come from the runner, never from a job's work dir.
ZYGOTE_SRC = r"""
import fcntl, gc, json, os, resource, signal, socket, sys, types
try:
    import ctypes
    if ctypes.CDLL(None).prctl(4, 0, 0, 0, 0) == 0:  # non-dumpable, inherited by every child
        sys._hel_non_dumpable = True  # tells hel_pydriver it need not load ctypes again (~1 ms)
except Exception:
    pass
# Warm what judged programs import anyway, so each forked child finds it loaded (imports are most
# of a small program's run time). Nothing here holds job data.
_WARM = "ast,json,marshal,math,struct,ctypes,traceback,typing,re,collections,itertools,functools,heapq,string,copy,hashlib,datetime,statistics,fractions,decimal,random"
for _m in (_WARM + "," + os.environ.pop("HEL_PRELOAD", "")).split(","):
    if _m:
        try:
            __import__(_m)
        except Exception:
            pass
gc.freeze()
sock = socket.socket(fileno=int(sys.argv[1]))
rfd, wfd = os.pipe()
os.set_blocking(wfd, False)
signal.set_wakeup_fd(wfd)
signal.signal(signal.SIGCHLD, lambda *a: None)

def send(obj):
    sock.sendall(json.dumps(obj).encode() + b"\n")

# Harness modules (namespaces), by sha256 of their source.
_harnesses = {}

def load(req):
    sha = req.get("harness")
    if sha:
        if sha not in _harnesses:
            ns = {"__name__": "hel_harness", "__file__": req["argv"][0]}
            exec(compile(req["harness_source"], req["argv"][0], "exec"), ns)
            _harnesses[sha] = ns
            gc.freeze()  # keep it out of the children's collections (fewer copy-on-write pages)
        return b"", _harnesses[sha]
    with open(os.path.join(req["cwd"], req["argv"][0]), "rb") as f:
        return f.read(), None

def child(req, fds, source, harness):
    os.setsid()
    n = len(fds)
    fds = [fcntl.fcntl(fd, fcntl.F_DUPFD, n) for fd in fds]  # out of the way of the targets 0..n-1
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.closerange(n, 1 << 16)  # the zygote's socket and pipes are not the sample's business
    os.chdir(req["cwd"])
    env = req.get("env")  # absent: ours already (copy-on-write faults a child is spared)
    if env is not None:  # applied as a difference: every new C string costs copy-on-write faults
        for k in [k for k in os.environ if k not in env]:
            del os.environ[k]
        for k, v in env.items():
            if os.environ.get(k) != v:
                os.environ[k] = v
    lim = req["limits"]
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_size_bytes"], lim["file_size_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"]))
    if lim.get("address_space_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (lim["address_space_bytes"], lim["address_space_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.argv = list(req["argv"])
    status = 0
    try:
        # Like runpy.run_path (which costs ~2 ms of lazy imports in every child): a fresh __main__.
        main = types.ModuleType("__main__")
        main.__file__ = sys.argv[0]
        sys.modules["__main__"] = main
        if harness is not None:
            status = harness["main"](sys.argv) or 0
        else:
            exec(compile(source, sys.argv[0], "exec"), main.__dict__)
    except SystemExit as e:
        c = e.code
        status = c if isinstance(c, int) else (0 if c is None else (print(c, file=sys.stderr) or 1))
    except BaseException:
        import traceback
        traceback.print_exc()
        status = 1
    try:
        import atexit
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except BaseException:
            pass
    os._exit(status & 0xFF)

# A spare: a child forked ahead, waiting for its request, so the fork's cost falls between jobs
# rather than inside one. Returns (pid, socket to send it the request on), or None. Only when this
# container may use more than one CPU: pinned to one, the spare's fork competes with the job it
# would speed up, and the pages it shares make our own writes copy-on-write.
def spare():
    if len(os.sched_getaffinity(0)) < 2:
        return None
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = os.fork()
    except OSError:
        a.close()
        b.close()
        return None
    if pid == 0:
        try:
            a.close()
            msg, fds, _, _ = socket.recv_fds(b, 1 << 20, 8)
            if msg:
                req = json.loads(msg)
                try:
                    source, harness = load(req)
                except OSError:
                    source, harness = b"", None  # the child reports the missing file like python3 would
                child(req, fds, source, harness)
        finally:
            os._exit(70)
    b.close()
    return pid, a

# Whether a spare still waits as we left it: a sample (same user) may have stopped or signalled it.
def healthy(pid):
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            fields = dict(line.split(b":", 1) for line in f.read().splitlines() if b":" in line)
        pending = int(fields[b"SigPnd"], 16) | int(fields[b"ShdPnd"], 16)
        return fields[b"State"].split()[0] in (b"S", b"R") and not pending
    except (OSError, KeyError, ValueError, IndexError):
        return False

quiet = set()  # spares we killed: their exits are nobody's business
waiting = None  # the first job comes after the host has pinned us (or not)
while True:
    import select
    r, _, _ = select.select([sock, rfd], [], [])
    if rfd in r:
        os.read(rfd, 4096)
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in quiet:
            quiet.discard(pid)
            continue
        rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sock.sendall(b'{"exit": %d, "rc": %d}\n' % (pid, rc))  # bytes: less to allocate after a fork
    if sock in r:
        msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 8)
        if not msg:
            os._exit(0)
        pid = None
        if waiting is not None and b'"harness_source"' not in msg and healthy(waiting[0]):
            try:
                socket.send_fds(waiting[1], [msg], fds)  # the spare parses the request, not us
                pid = waiting[0]
            except OSError:
                pass
        if waiting is not None:
            if pid is None:  # it lacks a new harness, was tampered with, or is gone
                try:
                    os.kill(waiting[0], signal.SIGKILL)
                except OSError:
                    pass
                quiet.add(waiting[0])
            waiting[1].close()
            waiting = None
        if pid is None:  # no usable spare: load here, fork now
            req = json.loads(msg)
            try:
                source, harness = load(req)
            except OSError:
                source, harness = b"", None  # the child reports the missing file like python3 would
            try:
                pid = os.fork()
            except OSError as exc:
                for fd in fds:
                    os.close(fd)
                send({"pid": None, "error": str(exc)})
                continue
            if pid == 0:
                try:
                    child(req, fds, source, harness)
                finally:
                    os._exit(70)
        for fd in fds:
            os.close(fd)
        sock.sendall(b'{"pid": %d}\n' % pid)
        waiting = spare()
"""


class _Zygote:
    """The runner's handle on its zygote process; thread-safe.

    ``workdir``: the first worker's work dir. The zygote starts with the environment a step there
    gets, so a child of that worker's jobs (the only one, by default) changes nothing.
    """

    def __init__(self, workdir: str = "/") -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = _base_env(workdir, {})  # the zygote's own, once it has read HEL_PRELOAD
        env = {**self.env, "HEL_PRELOAD": os.environ.get("HEL_PRELOAD", "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", ZYGOTE_SRC, str(child.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None,
            pass_fds=(child.fileno(),), env=env,
        )  # fmt: skip
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

    def spawn(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        lim: dict[str, Any],
        fds: list[int],
        harness: bytes | None = None,
    ) -> int:
        """Fork a child running ``argv[2:]`` like ``python3 -I``; returns its pid. Caller holds the spawn lock.

        ``harness``: the source of the script ``argv[2]`` names (ours, trusted); the child calls its
        ``main(argv)`` from the zygote's once-run copy instead of reading the file.
        """
        req: dict[str, Any] = {"argv": argv[2:], "cwd": cwd, "limits": lim}
        if env != self.env:
            req["env"] = env
        if harness is not None:
            if harness != self._last[0]:  # the same driver, job after job: hash it once
                self._last = (harness, hashlib.sha256(harness).hexdigest())
            req["harness"] = sha = self._last[1]
            if sha not in self._harnesses:
                req["harness_source"] = harness.decode()
                self._harnesses.add(sha)
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

    def abandon(self, pid: int) -> None:
        """Forget a (killed) child: its exit status will not be waited for."""
        with self._cond:
            if self._exits.pop(pid, None) is None:
                self._abandoned.add(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits or not self.alive, timeout=timeout)
            return self._exits.pop(pid, None)


def warm_python(argv: list[str]) -> bool:
    """Whether a step is ``python3 -I script.py ...`` and so can start from the zygote."""
    return len(argv) >= 3 and argv[0] in ("python3", "python") and argv[1] == "-I" and argv[2].endswith(".py")


# The warm tester's bootstrap: read hel_pydriver.py's source (a frame) and serve tests with it.
TESTER_SRC = r"""
import socket, struct, sys
sock = socket.socket(fileno=int(sys.argv[1]))
def read(n):
    b = b""
    while len(b) < n:
        c = sock.recv(n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b
src = read(struct.unpack("<I", read(4))[0])
g = {"__name__": "hel_tester"}
exec(compile(src, "hel_pydriver.py", "exec"), g)
g["serve_tests"](sock)
"""


class Sabotage(Exception):
    """The runner's own processes (zygote, a tester) were killed or stopped: a sample did it."""


class _Tester:
    """One long-lived trusted test process (hel_pydriver.serve_tests), used by one worker thread.

    It runs the tests of one job at a time against a candidate started from the zygote; only plain
    values cross between them. Started with the runner's session, so the stray reaper spares it.
    """

    def __init__(self, driver: bytes) -> None:
        self.driver = driver
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", TESTER_SRC, str(child.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None,
            pass_fds=(child.fileno(),), env=_base_env("/", {}),
        )  # fmt: skip
        child.close()
        self.sock = parent
        self.sock.sendall(struct.pack("<I", len(driver)) + driver)

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Sabotage("the test process ended")
            buf += chunk
        return bytes(buf)

    def send(self, tests: bytes, fds: list[int]) -> None:
        """Ask for ``tests`` (JSON) to run against the candidate whose call pipes are ``fds``."""
        try:
            socket.send_fds(self.sock, [struct.pack("<I", len(tests))], fds)
            self.sock.sendall(tests)
        except OSError:
            raise Sabotage("the test process is gone") from None

    def answer(self) -> dict[str, Any]:
        """The answer, once the socket is readable: ``{"passed", "gone", "stderr"}``."""
        self.sock.settimeout(10.0)
        try:
            (n,) = struct.unpack("<I", self._read_exact(4))
            return json.loads(self._read_exact(n))  # type: ignore[no-any-return]
        except OSError:
            raise Sabotage("the test process is gone") from None

    def close(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.sock.close()


_TESTERS = threading.local()  # this worker thread's tester
_ALL_TESTERS: set[_Tester] = set()


def _tester(driver: bytes) -> _Tester:
    """This worker thread's warm tester, started on first use (or anew after a kill)."""
    t: _Tester | None = getattr(_TESTERS, "tester", None)
    if t is None or t.driver != driver:
        _drop_tester()
        t = _TESTERS.tester = _Tester(driver)
        _ALL_TESTERS.add(t)
    return t


def _drop_tester() -> None:
    t = getattr(_TESTERS, "tester", None)
    if t is not None:
        _ALL_TESTERS.discard(t)
        t.close()
        _TESTERS.tester = None


_SIGCHLD_BIT = 1 << (signal.SIGCHLD - 1)
_STOP_BITS = sum(1 << (sig - 1) for sig in (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU))


def _proc_state(pid: int) -> tuple[bytes, int] | None:
    """(state letter, pending signal mask) from /proc/<pid>/status; None if it cannot be read.

    A sample of the same uid can SIGKILL or SIGSTOP any of our processes, and the signal may still
    be pending when we look, hence the mask.
    """
    try:
        with open(f"/proc/{pid}/status", "rb", buffering=0) as f:
            data = f.read()

        def field(name: bytes) -> bytes:  # only three of ~55 lines, checked after every job
            i = data.index(b"\n" + name + b":") + len(name) + 2
            return data[i : data.index(b"\n", i)].strip()

        return field(b"State")[:1], int(field(b"SigPnd"), 16) | int(field(b"ShdPnd"), 16)
    except (OSError, ValueError):
        return None


def _running(proc: subprocess.Popen[bytes]) -> bool:
    """Alive, not stopped, and no signal on its way."""
    st = None if proc.poll() is not None else _proc_state(proc.pid)
    return st is not None and st[0] not in (b"T", b"t", b"Z", b"X") and not st[1] & ~_SIGCHLD_BIT


def _stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (SIGSTOP/SIGTSTP...) or about to be."""
    st = _proc_state(pid)
    return st is not None and (st[0] in (b"T", b"t") or bool(st[1] & _STOP_BITS))


def _machinery_intact() -> bool:
    """Whether the zygote and every tester still run; checked after each job, before its verdict."""
    return (_ZYGOTE is None or _running(_ZYGOTE.proc)) and all(_running(t.proc) for t in list(_ALL_TESTERS))


# ------------------------------------------------------------------------------------------ contained state


class _Guard:
    """What a contained runner knows about running jobs: their sessions and work dirs.

    ``spawn_lock`` is held while a step starts and while strays are reaped, so a step that has just
    called setsid but is not registered yet is never mistaken for a stray.
    """

    def __init__(self, root: str, scratch: tuple[str, ...]) -> None:
        self.spawn_lock = threading.Lock()
        self.sessions: set[int] = set()
        self.workdirs: set[str] = set()
        self.root = root
        self.scratch = scratch
        self.keep = {p for p in os.environ.get(CACHE_DIRS_ENV, "").split(":") if p}
        self.me = os.getpid()
        self.my_sid = os.getsid(0)
        self.zygote_pid = 0
        self.strays_killed = 0
        self.files_swept = 0

    def reap(self) -> None:
        """Kill processes outside every running job's session; remove unclaimed scratch files."""
        self.kill_strays()
        self.sweep()

    def kill_strays(self) -> None:
        with self.spawn_lock:
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                pid = int(name)
                if pid in (1, self.me, self.zygote_pid):
                    continue
                try:
                    sid = os.getsid(pid)
                except (ProcessLookupError, PermissionError):
                    continue
                if sid == self.my_sid or sid in self.sessions:
                    continue
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.strays_killed += 1
                except (ProcessLookupError, PermissionError):
                    pass

    def sweep(self) -> None:
        with self.spawn_lock:
            for d in self.scratch:
                try:
                    entries = os.listdir(d)
                except OSError:
                    continue
                for e in entries:
                    path = os.path.join(d, e)
                    if (
                        path in self.workdirs
                        or path in self.keep
                        or any(k.startswith(path + "/") for k in self.keep)
                    ):
                        continue
                    self.files_swept += 1
                    if os.path.isdir(path) and not os.path.islink(path):
                        _remove_tree(path)
                    else:
                        try:
                            os.unlink(path)
                        except OSError:
                            pass


def _remove_tree(path: str) -> None:
    """Remove a tree a sample made, also the dirs it took every permission off (we are its owner).

    Giving up on them would leave their files to later samples.
    """

    def retry(func: Any, p: str, _exc: Any, depth: int = 0) -> None:
        if depth > 64:
            return
        # The dir that refused: p itself when opening or listing it, else its parent. Never through
        # a symlink (os.chmod follows them; Linux has no lchmod).
        target = p if func in (os.scandir, os.open, os.listdir) else os.path.dirname(p)
        try:
            if os.path.islink(target):
                return
            os.chmod(target, 0o700)
        except OSError:
            return
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, onerror=lambda f, q, e: retry(f, q, e, depth + 1))
        else:
            try:
                os.unlink(p)
            except OSError:
                pass

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=retry)


def _oom_kills() -> int | None:
    """The cgroup's count of OOM kills (v1 memory.oom_control or v2 memory.events), if readable."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


_ZYGOTE: _Zygote | None = None
_GUARD: _Guard | None = None


# ------------------------------------------------------------------------------------------ steps


def _start(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    lim: dict[str, Any],
    extra_fds: tuple[int, ...] = (),
    harness: bytes | None = None,
) -> tuple[int, Any, Any, Any, Any]:
    """Start a step in its own session; returns (pid, stdin, stdout, stderr, wait(timeout) -> rc|None).

    ``extra_fds`` become the step's fds 3, 4, ... and ``harness`` is the source of its script (zygote
    steps only).
    """
    if _ZYGOTE is not None and warm_python(argv):
        r0, w0 = os.pipe()
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        try:
            pid = _ZYGOTE.spawn(argv, cwd, env, lim, [r0, w1, w2, *extra_fds], harness)
        finally:
            for fd in (r0, w1, w2):
                os.close(fd)
        z = _ZYGOTE
        return pid, os.fdopen(w0, "wb"), os.fdopen(r1, "rb"), os.fdopen(r2, "rb"), lambda t: z.wait(pid, t)
    p = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so the kill reaches its children
        preexec_fn=lambda: _apply_limits(lim),
    )  # fmt: skip

    def wait(t: float | None) -> int | None:
        try:
            return p.wait(timeout=t)
        except subprocess.TimeoutExpired:
            return None

    return p.pid, p.stdin, p.stdout, p.stderr, wait


def _launch(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    lim: dict[str, Any],
    extra_fds: tuple[int, ...] = (),
    harness: bytes | None = None,
) -> tuple[int, Any, Any, Any, Any] | dict[str, Any]:
    """``_start`` registered with the guard; on failure, the step's result (infra when not its fault)."""
    try:
        if _GUARD:
            with _GUARD.spawn_lock:
                started = _start(argv, cwd, env, lim, extra_fds, harness)
                _GUARD.sessions.add(started[0])
            return started
        return _start(argv, cwd, env, lim, extra_fds, harness)
    except OSError as exc:
        # EAGAIN/ENOMEM while another sample fork-bombs is not this sample's fault: retry it.
        infra = _ZYGOTE is not None and warm_python(argv) or exc.errno in (errno.EAGAIN, errno.ENOMEM)
        return {"rc": None, "error": f"cannot start {argv[0]}: {exc.strerror or exc}", "infra": infra}


def _oom_since(before: int | None, rc: int | None) -> bool:
    """Whether a step that died with ``rc`` was an OOM kill (the cgroup counter moved)."""
    if before is None or rc is None or rc >= 0:
        return False
    after = _oom_kills()
    return after is not None and after > before


def _run_step(
    argv: list[str], cwd: str, env: dict[str, str], stdin: bytes, lim: dict[str, Any], deadline: float
) -> dict[str, Any]:
    """One command in its own session; killed with its whole process group at the deadline."""
    guard = _GUARD
    oom_before = _oom_kills() if guard else None
    started = _launch(argv, cwd, env, lim)
    if isinstance(started, dict):
        return started
    pid, sin, sout, serr, wait = started
    state = {"overflow": False}

    def overflow() -> None:
        state["overflow"] = True
        _kill_group(pid)

    out = _Capped(sout, lim["output_bytes"], overflow)
    err = _Capped(serr, lim["output_bytes"], overflow)
    try:
        sin.write(stdin)
        sin.close()
    except (BrokenPipeError, OSError):
        pass
    rc = wait(max(0.0, deadline - time.monotonic()))
    timed_out = rc is None
    interfered = timed_out and _stopped(pid)
    # Kill the group even after a clean exit: background children must not outlive the sample.
    _kill_group(pid)
    if timed_out:
        rc = wait(10.0)
    if guard:
        guard.kill_strays()  # a setsid daemon may hold the pipes open; in a container we can kill it
    for r in (out, err):
        r.thread.join(timeout=5.0)  # an escaped process may hold the pipe open: never wait forever
    for r, s in ((out, sout), (err, serr)):
        if r.thread.is_alive():
            continue  # closing a buffered file that a thread is reading would block on its lock
        try:
            s.close()
        except OSError:
            pass
    if guard:
        guard.sessions.discard(pid)
    return {
        "rc": rc,
        "timed_out": timed_out,
        "interfered": interfered,
        "overflow": state["overflow"] or out.overflow or err.overflow,
        "oom": _oom_since(oom_before, rc),
        # A reader still running means the capture may lack the end of the output (the token line):
        # under heavy load that must not read as the model's failure.
        "incomplete": out.thread.is_alive() or err.thread.is_alive(),
        "stdout": bytes(out.data),
        "stderr": bytes(err.data),
    }


def _run_warm(
    warm: _Warm, cwd: str, env: dict[str, str], lim: dict[str, Any], deadline: float
) -> dict[str, Any]:
    """A warm Python step: the candidate (fresh, from the zygote) serves calls on fds 3 and 4, its
    code on fd 5, while this worker's tester runs the tests against it. One thread, no readers: a
    poll loop captures the candidate's output (capped) until the tester answers or the deadline.

    Returns ``_run_step``'s fields plus ``"tester"``: the answer, None at the deadline.
    """
    guard = _GUARD
    assert guard is not None  # warm needs the zygote, which only a contained runner has
    oom_before = _oom_kills()
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    code = os.memfd_create("candidate")  # the candidate's code never sits in a shared dir
    with open(code, "wb", closefd=False) as f:
        f.write(warm.code)
    os.lseek(code, 0, os.SEEK_SET)
    try:
        started = _launch(warm.argv, cwd, env, lim, (req_r, resp_w, code), warm.driver)
    finally:
        for fd in (req_r, resp_w, code):
            os.close(fd)
    if isinstance(started, dict):
        os.close(req_w)
        os.close(resp_r)
        return started
    pid, sin, sout, serr, wait = started
    sin.close()
    tester = _tester(warm.driver)
    try:
        tester.send(warm.tests, [req_w, resp_r])
    finally:
        os.close(req_w)
        os.close(resp_r)
    cap = lim["output_bytes"]
    out_fd, err_fd = sout.fileno(), serr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    open_fds = set(bufs)  # until EOF
    poller = select.poll()
    for fd in (tester.sock.fileno(), *bufs):
        poller.register(fd, select.POLLIN)
    answer: dict[str, Any] | None = None
    overflow = timed_out = interfered = False

    def pump(fd: int) -> None:
        nonlocal overflow
        chunk = os.read(fd, 65536)
        if not chunk:
            poller.unregister(fd)
            open_fds.discard(fd)
            return
        buf = bufs[fd]
        if len(buf) < cap:
            buf += chunk[: cap - len(buf)]
        elif not overflow:
            overflow = True
            _kill_group(pid)

    try:
        while answer is None:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                interfered = _stopped(pid) or not _running(tester.proc)
                break
            for fd, _ in poller.poll(left * 1000):
                if fd == tester.sock.fileno():
                    answer = tester.answer()
                elif fd in open_fds:
                    pump(fd)
    except Sabotage:
        _kill_group(pid)
        wait(10.0)
        guard.sessions.discard(pid)
        raise
    finally:
        if answer is None:
            _drop_tester()  # at the deadline (or dead): its stream may be mid-answer
    _kill_group(pid)  # done with the candidate, whatever the tests said
    if answer is not None and not answer["gone"] and not overflow and _ZYGOTE is not None:
        rc = None  # the tests decided: how the (now killed) candidate ends changes nothing
        _ZYGOTE.abandon(pid)
    else:
        rc = wait(10.0)
    for wait_ms, strays_first in ((50, False), (2000, True)):
        if not open_fds:
            break
        if strays_first:
            guard.kill_strays()  # a setsid daemon may hold the pipes open; in a container we can kill it
        drain_until = time.monotonic() + wait_ms / 1000
        while open_fds and time.monotonic() < drain_until:
            for fd, _ in poller.poll(wait_ms / 10):
                if fd in open_fds:
                    pump(fd)
    sout.close()
    serr.close()
    guard.sessions.discard(pid)
    return {
        "tester": answer,
        "rc": rc,
        "timed_out": timed_out,
        "interfered": interfered,
        "overflow": overflow,
        "oom": _oom_since(oom_before, rc),
        "incomplete": bool(open_fds),
        "stdout": bytes(bufs[out_fd]),
        "stderr": bytes(bufs[err_fd]),
    }


def _classify_failure(res: dict[str, Any], program: dict[str, Any], stage: str) -> dict[str, str]:
    err: bytes = res["stderr"]
    tail = _tail(err)
    if res["timed_out"]:
        return {"status": "timeout", "reason": f"{stage} exceeded the time limit", "stderr_tail": tail}
    if res["overflow"]:
        return {
            "status": "output_limit",
            "reason": f"{stage} wrote more output than allowed",
            "stderr_tail": tail,
        }
    rc = res["rc"]
    if res.get("oom"):
        return {"status": "oom", "reason": "killed: out of memory", "stderr_tail": tail}
    if rc is not None and rc < 0:
        sig = -rc
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "reason": "CPU time limit", "stderr_tail": tail}
        if sig == signal.SIGXFSZ:
            return {"status": "output_limit", "reason": "file size limit", "stderr_tail": tail}
        if sig == signal.SIGKILL and _GUARD is None:
            # Outside a container there is no cgroup counter to tell; the kernel's OOM killer is the usual cause.
            return {"status": "oom", "reason": "killed (SIGKILL): out of memory", "stderr_tail": tail}
        return {"status": "crashed", "reason": f"killed by {name}", "stderr_tail": tail}
    if b"MemoryError" in err or b"OutOfMemoryError" in err or b"std::bad_alloc" in err:
        return {"status": "oom", "reason": "out of memory", "stderr_tail": tail}
    if stage == "compile":
        return {"status": "error", "reason": "compile error", "stderr_tail": tail}
    last = next((ln for ln in reversed(tail.splitlines()) if ln.strip()), f"exit code {rc}")
    for marker in program.get("failure_markers", ()):
        if marker.encode() in err:
            return {"status": "failed", "reason": last.strip()[:200], "stderr_tail": tail}
    return {"status": "error", "reason": last.strip()[:200], "stderr_tail": tail}


def _base_env(workdir: str, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.update(extra)
    return env


def _write_files(workdir: str, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = os.path.normpath(os.path.join(workdir, rel))
        if not path.startswith(workdir + os.sep):
            raise ValueError(f"file path escapes the work dir: {rel!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(content)


class _Warm(NamedTuple):
    """How to judge a Python program warm: see ``Program.warm_tests``."""

    driver: bytes  # hel_pydriver.py's source: the tester's code and the candidate's harness
    tests: bytes  # the tests JSON, only ever sent to the tester
    code: bytes  # the candidate's code (prompt + completion)
    argv: list[str]


def _warm_plan(program: dict[str, Any]) -> _Warm | None:
    """The warm plan for ``program`` when this runner has a zygote and the program allows it."""
    name = program.get("warm_tests")
    if not name or _ZYGOTE is None:
        return None
    files = program["files"]
    _, _, driver, candidate, _ = program["run"]  # python3 -I <driver> <candidate> <tests>
    entry = json.loads(files[name])["entry_point"]
    return _Warm(
        files[driver].encode(),
        files[name].encode("utf-8", "surrogatepass"),
        files[candidate].encode("utf-8", "surrogatepass"),
        ["python3", "-I", driver, "--candidate", candidate, entry],
    )


def _warm_outcome(res: dict[str, Any], program: dict[str, Any]) -> dict[str, str]:
    """The verdict of a warm Python step, from the tester's answer and how the candidate ended."""
    answer = res["tester"]
    if answer is not None and answer["passed"] and not res["overflow"]:
        return {"status": "passed", "reason": "", "stderr_tail": ""}
    if answer is not None and not answer["gone"] and not res["overflow"]:
        res = {**res, "rc": 1, "stderr": res["stderr"] + answer["stderr"].encode("utf-8", "replace")}
    elif answer is not None and res["rc"] is not None and res["rc"] >= 0 and not res["overflow"]:
        msg = f"CandidateFailed: candidate process exited with code {res['rc']}\n"
        res = {**res, "rc": 1, "stderr": res["stderr"] + msg.encode()}
    return _classify_failure(res, program, "run")


def _not_started(res: dict[str, Any], start: float) -> dict[str, Any]:
    """The outcome of a step that could not start (infra when that was not the sample's fault)."""
    return {
        "status": "infra_error" if res.get("infra") else "error",
        "reason": res["error"],
        "stderr_tail": "",
        "duration_s": time.monotonic() - start,
    }


_SHARED = False  # other samples run beside ours (a contained runner with more than one worker)


def _final(outcome: dict[str, str], res: dict[str, Any], start: float) -> dict[str, Any]:
    """The outcome with its duration; a verdict another sample may have caused is not final.

    Every sample in a container runs as the same user, so one can kill or stop another's
    processes. When ours died of a signal nobody in the harness sent (and not of OOM), or was
    found stopped at the deadline, and other samples ran beside it, the host judges it again alone
    (``"solo"``): there, whatever happens is the sample's own doing.
    """
    if _SHARED and (outcome["status"] == "crashed" or res.get("interfered")):
        return {
            "status": "infra_error",
            "reason": f"{outcome['reason'] or outcome['status']}, with other samples beside it: judged again alone",
            "stderr_tail": outcome.get("stderr_tail", ""),
            "duration_s": time.monotonic() - start,
            "solo": True,
        }
    return {**outcome, "duration_s": time.monotonic() - start}


_SLOT = threading.local()  # this worker thread's number: its work dir is <root>/job<number>
_SLOTS = itertools.count()


def _workdir_of(root: str, slot: int) -> str:
    return os.path.join(root, f"job{slot}")


def _own_workdir(root: str) -> str:
    """This worker's work dir, created empty (contained runners only).

    The same path job after job, so a warm child's environment (HOME, TMPDIR) is the zygote's own
    and need not change. Removed after every job like any work dir; should a removal have failed
    (a sample may leave a file it made unremovable), a fresh random dir serves instead.
    """
    slot = getattr(_SLOT, "n", None)
    if slot is None:
        slot = _SLOT.n = next(_SLOTS)
    path = _workdir_of(root, slot)
    for _ in range(2):
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            _remove_tree(path)
    return tempfile.mkdtemp(prefix="hel-", dir=root)


def execute_job(job: dict[str, Any], root: str | None = None) -> dict[str, Any]:
    """Judge one job; returns an outcome dict (status, reason, stderr_tail, duration_s)."""
    start = time.monotonic()
    program, lim = job["program"], job["limits"]
    deadline = start + float(lim["timeout_s"])
    token = secrets.token_hex(16)
    if _GUARD:
        # Create and register the work dir atomically with respect to sweep(): a sweep from a job
        # finishing on another thread must never see (and delete) a dir not yet registered.
        with _GUARD.spawn_lock:
            workdir = _own_workdir(root or "/work")
            _GUARD.workdirs.add(workdir)
    else:
        workdir = tempfile.mkdtemp(prefix="hel-", dir=root)
    warm = _warm_plan(program)
    try:
        # Warm, the work dir starts empty: tests, driver and code reach their processes directly.
        _write_files(workdir, {} if warm else program["files"])
        env = _base_env(
            workdir,
            {
                k.replace("{workdir}", workdir): v.replace("{workdir}", workdir)
                for k, v in program.get("env", {}).items()
            },
        )
        for argv in program.get("compile", ()):
            res = _run_step(list(argv), workdir, env, b"", lim, deadline)
            if "error" in res:  # it did not start
                return _not_started(res, start)
            if res["rc"] != 0 or res["timed_out"] or res["overflow"]:
                out = _classify_failure(res, program, "compile")
                if out["status"] == "error":
                    # compilers often report on stdout (javac, tsc): keep both
                    out["stderr_tail"] = _tail(res["stdout"] + res["stderr"])
                return _final(out, res, start)
        if warm is not None:
            res = _run_warm(warm, workdir, env, lim, deadline)
        else:
            res = _run_step(list(program["run"]), workdir, env, (token + "\n").encode(), lim, deadline)
        if "error" in res:  # it did not start
            return _not_started(res, start)
        if warm is not None:
            return _final(_warm_outcome(res, program), res, start)
        stdout_lines = [ln.strip() for ln in res["stdout"].decode("utf-8", "replace").splitlines()]
        token_seen = token in stdout_lines
        if res["rc"] == INFRA_EXIT and f"hel-infra {token}" in stdout_lines:
            # Only trusted code knows the token: the driver itself could not work (fork failed...).
            outcome = {
                "status": "infra_error",
                "reason": "the test driver could not start the candidate",
                "stderr_tail": _tail(res["stderr"]),
            }
        elif res["rc"] == 0 and not res["timed_out"] and not res["overflow"]:
            if not token_seen and res.get("incomplete"):
                outcome = {
                    "status": "infra_error",
                    "reason": "the output capture did not finish; retried",
                    "stderr_tail": _tail(res["stderr"]),
                }
            elif not token_seen:
                outcome = {
                    "status": "failed",
                    "reason": "exited 0 before the tests finished",
                    "stderr_tail": _tail(res["stderr"]),
                }
            elif program.get("require_empty_stderr") and res["stderr"].strip():
                last = res["stderr"].decode("utf-8", "replace").strip().splitlines()[-1]
                outcome = {"status": "failed", "reason": last[:200], "stderr_tail": _tail(res["stderr"])}
            else:
                outcome = {"status": "passed", "reason": "", "stderr_tail": ""}
        else:
            outcome = _classify_failure(res, program, "run")
        return _final(outcome, res, start)
    finally:
        _remove_tree(workdir)
        if _GUARD:
            _GUARD.workdirs.discard(workdir)
            _GUARD.reap()


def serve(workers: int, root: str | None = None, contained: bool = False) -> None:
    """Read jobs from stdin, judge them on ``workers`` threads, write outcomes to stdout.

    ``contained``: we are alone in a sandbox container (never on the user's machine): start the
    zygote, reap strays and sweep scratch dirs after every job.
    """
    global _ZYGOTE, _GUARD, _SHARED
    out_lock = threading.Lock()
    stdout = sys.stdout
    if contained:
        _SHARED = workers > 1
        set_non_dumpable()
        root = root or "/work"
        _GUARD = _Guard(root, scratch=tuple(d for d in (root, "/tmp", "/dev/shm") if os.path.isdir(d)))
        try:
            _ZYGOTE = _Zygote(_workdir_of(root, 0))
            _GUARD.zygote_pid = _ZYGOTE.proc.pid
        except OSError:
            _ZYGOTE = None

    def emit(obj: dict[str, Any]) -> None:
        line = json.dumps(obj) + "\n"
        with out_lock:
            stdout.write(line)
            stdout.flush()

    def work(job: dict[str, Any]) -> None:
        try:
            outcome = execute_job(job, root)
            if contained and not _machinery_intact():
                raise Sabotage("the zygote or a tester was killed or stopped")
        except Sabotage:
            # A sample killed or stopped the zygote or a tester (any sample in this container could
            # have): end the runner without a verdict, so the host re-runs every job in flight alone
            # in a fresh container, where a sample that does it again is judged crashed.
            os._exit(70)
        except Exception as exc:  # report, never die: the host retries infrastructure errors
            outcome = {
                "status": "infra_error",
                "reason": f"runner: {type(exc).__name__}: {exc}",
                "stderr_tail": "",
                "duration_s": 0.0,
            }
        emit({"id": job["id"], "outcome": outcome})

    emit(
        {
            "ready": True,
            "pid": os.getpid(),
            "zygote": _ZYGOTE is not None,
            "oom_counter": _oom_kills() is not None,
            "cpus": sorted(os.sched_getaffinity(0)),  # the host may pin this container to some of them
        }
    )
    shared: dict[str, str] = {}  # big files jobs repeat, by sha256: the host names them in later jobs
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("shutdown"):
                break
            if msg.get("stats"):
                g = _GUARD
                emit(
                    {
                        "stats": {
                            "strays_killed": g.strays_killed if g else 0,
                            "files_swept": g.files_swept if g else 0,
                        }
                    }
                )
                continue
            job = msg["job"]
            files = job["program"]["files"]
            for name, key in job.get("keep", {}).items():
                shared[key] = files[name]
            for name, key in job.get("shared", {}).items():
                files[name] = shared[key]  # the host sent it with an earlier job, to keep
            pool.submit(work, job)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count() or 1)
