"""Run one judged program, or serve many over stdio. Standard library only.

This file runs in two places: imported by the host's ``local`` executor, and inside the sandbox
container, where the host sends this very source over stdin and then one JSON job per line. Keeping
one implementation means a verdict means the same thing wherever it was reached.

Wire protocol (container): the host writes the channel key (hex) on the first line, then sealed
lines (see ``seal``: an HMAC, a space, JSON) ``{"job": <Job as dict>}`` and ``{"shutdown": true}``;
the runner answers sealed ``{"ready": ...}`` once at start, ``{"start": id}`` when a job begins and
``{"id": ..., "outcome": {...}}`` when it ends, in completion order. A job may carry ``"keep": {file
name: sha256}`` (keep that file's text, under its hash, checked here) and ``"shared": {file name:
sha256}`` (that file's text is one kept earlier), so big files jobs repeat cross the pipe once or twice.

In the container (``serve(..., contained=True)``, started as root with a handful of capabilities):

- every process of a job is forked by a warm *zygote* (a clean interpreter started once, that never
  sees a job's data or token) and drops to a uid of its own before it reads anything the job
  controls: in worker slot n the sample runs as SAMPLE_UID + n, a trusted judge as JUDGE_UID + n, the
  Python tester as TESTER_UID, none shared with init, the runner or the zygote (see "identities");
  ``python3 -I script.py`` steps run in the forked child itself (a Python start costs ~20 ms of CPU,
  a fork ~1 ms: most of the sandbox's speed), other programs are exec'd;
- after every job, kills every process of the slot's uids (kill(-1) as that uid: no fork outruns
  it), removes every file they own in the writable dirs (/work, /tmp, /dev/shm, /dev/mqueue) and
  every SysV IPC object, iteratively; if anything stays, the runner ends after its answer and the
  host starts a fresh container;
- tells an out-of-memory kill from another SIGKILL with the cgroup's oom_kill counter, never by
  what a sample printed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import hmac
import itertools
import json
import os
import resource
import secrets
import select
import signal
import socket
import stat
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
        self.stream, self._cap, self._cb = stream, cap, on_overflow
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
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

# The zygote: a clean interpreter, started once, that forks every process a job runs. It never
# receives a job's files, tests or token (only argv, cwd, env, limits, a uid and the child's fds),
# so a forked sample finds nothing secret in its inherited memory. One request per datagram with
# the child's fds attached as SCM_RIGHTS (stdio, then e.g. a warm candidate's call pipes and code);
# it answers {"pid": ...} in request order and {"exit": pid, "rc": ...} when a child ends (rc < 0:
# killed by that signal, as subprocess reports it).
#
# In the sandbox the zygote runs as root with the few capabilities the runner keeps; a child drops
# to the request's uid (groups, gid, uid: every capability goes with it) before it reads anything
# the job controls, so a file a sample replaced with a symlink is read with the sample's rights.
# A request either runs ``python3 -I script`` in-process (the fork is the start), ``exec``s a
# program, or ``reap``s: kills every process of its uid (kill(-1) as that uid, atomic against
# fork) and exits.
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

def harness_of(req):
    sha = req.get("harness")
    if not sha:
        return None
    if sha not in _harnesses:
        ns = {"__name__": "hel_harness", "__file__": req["argv"][0]}
        exec(compile(req["harness_source"], req["argv"][0], "exec", dont_inherit=True), ns)
        _harnesses[sha] = ns
        gc.freeze()  # keep it out of the children's collections (fewer copy-on-write pages)
    return _harnesses[sha]

def drop(uid):
    # Groups, then gid, then uid: once the uid is not 0 every capability is gone for good.
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

def reap(uid):
    # One kill(-1) as that uid reaches every process of it but us, atomically: a fork either made
    # its child before (the child is killed too) or fails, its parent's SIGKILL pending. (It says
    # success whenever other processes exist, so there is nothing to learn from its return.)
    drop(uid)
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    # Then its SysV IPC objects: IPC_RMID needs the object's owner or creator (or CAP_SYS_ADMIN,
    # which the runner does not have), so they go here, as that uid, by owner or by creator (an
    # owner may hand an object to another uid; the creator stays).
    try:
        libc = ctypes.CDLL(None)
        for kind, col, rm in (("shm", "shmid", libc.shmctl), ("sem", "semid", libc.semctl), ("msg", "msqid", libc.msgctl)):
            with open("/proc/sysvipc/" + kind) as f:
                rows = f.read().splitlines()
            head = rows[0].split()
            ix, iu, ic = head.index(col), head.index("uid"), head.index("cuid")
            for row in rows[1:]:
                c = row.split()
                if uid in (int(c[iu]), int(c[ic])):
                    rm(int(c[ix]), 0, None)  # IPC_RMID is 0 for all three
    except Exception:
        pass
    os._exit(0)

def child(req, fds, harness):
    if "reap" in req:
        reap(req["reap"])
    os.setsid()
    n = len(fds)
    fds = [fcntl.fcntl(fd, fcntl.F_DUPFD, n) for fd in fds]  # out of the way of the targets 0..n-1
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.closerange(n, 1 << 16)  # the zygote's socket and pipes are not the sample's business
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
    drop(req.get("uid"))
    os.chdir(req["cwd"])
    sys.argv = list(req["argv"])
    if req.get("exec"):
        try:
            os.execvpe(sys.argv[0], sys.argv, os.environ)
        except OSError as exc:
            os.write(2, ("cannot start %s: %s\n" % (sys.argv[0], exc.strerror or exc)).encode())
            os._exit(127)
    status = 0
    try:
        # Like runpy.run_path (which costs ~2 ms of lazy imports in every child): a fresh __main__.
        main = types.ModuleType("__main__")
        main.__file__ = sys.argv[0]
        sys.modules["__main__"] = main
        if harness is not None:
            status = harness["main"](sys.argv) or 0
        else:
            with open(sys.argv[0], "rb") as f:  # read with the sample's rights, never ours
                source = f.read()
            exec(compile(source, sys.argv[0], "exec", dont_inherit=True), main.__dict__)
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
        rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sock.sendall(b'{"exit": %d, "rc": %d}\n' % (pid, rc))  # bytes: less to allocate after a fork
    if sock in r:
        msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 8)
        if not msg:
            os._exit(0)
        req = json.loads(msg)
        try:
            harness = harness_of(req)
            pid = os.fork()
        except Exception as exc:
            for fd in fds:
                os.close(fd)
            send({"pid": None, "error": str(exc)})
            continue
        if pid == 0:
            try:
                child(req, fds, harness)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        sock.sendall(b'{"pid": %d}\n' % pid)
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
            [sys.executable, *SEEDED_ISOLATION, "-c", ZYGOTE_SRC, str(child.fileno())],
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
        """Kill every process of ``uid`` (a child does kill(-1) as that uid); whether it finished."""
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


# ``-I`` ignores every PYTHON* variable, PYTHONHASHSEED too: each interpreter would draw a random
# hash secret, and set iteration order (so a verdict) would change from run to run. Our own Python
# processes in the container start with what -I means but the environment, which is ours alone
# (_base_env): no user site dir (-s), no script or cwd dir on sys.path (-P, Python 3.11, the image's).
SEEDED_ISOLATION = ("-s", "-P")


def _seeded(argv: list[str]) -> list[str]:
    """``python3 -I ...`` exec'd in the container, made to honour the job's PYTHONHASHSEED."""
    if len(argv) >= 2 and argv[0] in ("python3", "python") and argv[1] == "-I":
        return [argv[0], *SEEDED_ISOLATION, *argv[2:]]
    return argv


def warm_python(argv: list[str]) -> bool:
    """Whether a step is ``python3 -I script.py ...`` and so can start from the zygote in-process."""
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
exec(compile(src, "hel_pydriver.py", "exec", dont_inherit=True), g)
g["serve_tests"](sock)
"""


class Sabotage(Exception):
    """The runner's own processes (zygote, a tester) were killed or stopped."""


class _Tester:
    """One long-lived trusted test process (hel_pydriver.serve_tests), used by one worker thread.

    It runs the tests of one job at a time against a candidate started from the zygote; only plain
    values cross between them. In the sandbox it runs as ``TESTER_UID``: no sample shares it.
    """

    def __init__(self, driver: bytes, seed: str = "") -> None:
        self.driver = driver
        self.seed = seed or PYTHON_HASH_SEED  # PYTHONHASHSEED: the tests' hash secret, fixed at its start
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        drop: dict[str, Any] = {}
        if _IDS:
            drop = {"user": TESTER_UID, "group": TESTER_UID, "extra_groups": []}
        self.proc = subprocess.Popen(
            [sys.executable, *SEEDED_ISOLATION, "-c", TESTER_SRC, str(child.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None, cwd="/",
            pass_fds=(child.fileno(),), env=_base_env("/", {"PYTHONHASHSEED": self.seed}), **drop,
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


def _tester(driver: bytes, seed: str = "") -> _Tester:
    """This worker thread's warm tester, started on first use (or anew after a kill, or for
    another hash seed: Python fixes its hash secret when it starts)."""
    t: _Tester | None = getattr(_TESTERS, "tester", None)
    if t is None or t.driver != driver or t.seed != (seed or PYTHON_HASH_SEED):
        _drop_tester()
        t = _TESTERS.tester = _Tester(driver, seed)
        _ALL_TESTERS.add(t)
    return t


def _drop_tester() -> None:
    t = getattr(_TESTERS, "tester", None)
    if t is not None:
        _ALL_TESTERS.discard(t)
        t.close()
        _TESTERS.tester = None


_SIGCHLD_BIT = 1 << (signal.SIGCHLD - 1)


def _proc_state(pid: int) -> tuple[bytes, int] | None:
    """(state letter, pending signal mask) from /proc/<pid>/status; None if it cannot be read."""
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


def _machinery_intact() -> bool:
    """Whether the zygote and every tester still run; checked after each job, before its verdict.

    No sample can signal them (other uids); the kernel's OOM killer still can.
    """
    return (_ZYGOTE is None or _running(_ZYGOTE.proc)) and all(_running(t.proc) for t in list(_ALL_TESTERS))


# ------------------------------------------------------------------------------------------ identities

# Who runs what in the sandbox (a contained runner started as root; a local runner changes no uid):
# - the runner and its zygote: root, with only the capabilities the host grants the container
#   (CHOWN DAC_OVERRIDE FOWNER IPC_OWNER KILL SETGID SETUID; no-new-privileges);
# - the warm Python tester: TESTER_UID, no capabilities;
# - worker slot n: the job's own processes run as SAMPLE_UID + n, a two-process language's trusted
#   judge as JUDGE_UID + n (both killed and cleaned after every job).
# So no process a sample starts shares a uid with init (whose stdio is the host's stream), the
# runner, the zygote, a tester or a judge: it can neither signal, ptrace nor open their /proc files.
TESTER_UID = 10001
SAMPLE_UID = 10100
JUDGE_UID = 10200
_IDS = False  # whether this runner switches uids (contained, started as root)

_SLOT = threading.local()  # this worker thread's number n (work dir <root>/job<n>, uids above)
_SLOTS = itertools.count()


def _slot() -> int:
    n: int | None = getattr(_SLOT, "n", None)
    if n is None:
        n = _SLOT.n = next(_SLOTS)
    return n


def _uids(slot: int) -> tuple[int, int]:
    """(sample uid, judge uid) of a worker slot."""
    return SAMPLE_UID + slot, JUDGE_UID + slot


# ------------------------------------------------------------------------------------------ cleanup


def _remove_tree(path: str) -> bool:
    """Remove a file or a whole tree a sample made; whether it is gone.

    Iterative (a tree thousands of levels deep is no RecursionError), one directory fd open at a
    time (climbing back through ".."), never through a symlink. Dirs a sample took every permission
    off are opened anyway (DAC_OVERRIDE in the sandbox) or given back their owner's rights first.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    parent, name = os.path.split(path.rstrip("/"))
    if not stat.S_ISDIR(st.st_mode):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return True
    try:
        top = os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        return _remove_dir_at(top, name)
    finally:
        os.close(top)


def _open_dir_at(dir_fd: int, name: str) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=dir_fd)  # a real dir (O_NOFOLLOW said so), no sample runs
        return os.open(name, flags, dir_fd=dir_fd)


def _remove_dir_at(top: int, name: str) -> bool:
    try:
        cur = _open_dir_at(top, name)
    except OSError:
        return False
    names: list[str] = []  # the path from ``name`` down to ``cur``
    try:
        while True:
            sub = None
            with os.scandir(cur) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        sub = entry.name
                        break
                    try:
                        os.unlink(entry.name, dir_fd=cur)
                    except FileNotFoundError:
                        pass
            if sub is not None:
                nxt = _open_dir_at(cur, sub)
                os.close(cur)
                cur = nxt
                names.append(sub)
                continue
            if not names:
                break
            up = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=cur)
            os.close(cur)
            cur = up
            os.rmdir(names.pop(), dir_fd=cur)
        os.rmdir(name, dir_fd=top)
        return True
    except OSError:
        return False
    finally:
        os.close(cur)


def _pids_current() -> int | None:
    """Tasks in this container's pids cgroup (v2 or v1), if readable: an exact kernel count."""
    for path in ("/sys/fs/cgroup/pids.current", "/sys/fs/cgroup/pids/pids.current"):
        try:
            with open(path, "rb", buffering=0) as f:
                return int(f.read())
        except (OSError, ValueError):
            continue
    return None


_IPC_KINDS = (("shm", "shmid"), ("sem", "semid"), ("msg", "msqid"))


def _ipc_objects(uids: set[int] | None) -> list[tuple[str, int]]:
    """SysV IPC objects (kind, id) of ``uids`` (None: all) in this container's IPC namespace."""
    found = []
    for kind, id_col in _IPC_KINDS:
        try:
            with open(f"/proc/sysvipc/{kind}", "rb", buffering=0) as f:
                lines = f.read().decode().splitlines()
        except OSError:
            continue
        if len(lines) < 2:
            continue
        head = lines[0].split()
        ix, iu, ic = head.index(id_col), head.index("uid"), head.index("cuid")
        for line in lines[1:]:
            cols = line.split()
            if uids is None or int(cols[iu]) in uids or int(cols[ic]) in uids:
                found.append((kind, int(cols[ix])))
    return found


def _remove_ipc(objects: list[tuple[str, int]]) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident in objects:  # IPC_RMID is 0 for all three
        if kind == "shm":
            libc.shmctl(ident, 0, None)
        elif kind == "sem":
            libc.semctl(ident, 0, 0)
        else:
            libc.msgctl(ident, 0, None)


class _Guard:
    """What a contained runner knows about its jobs, and the cleanup after each.

    ``lock`` is held while a job's dirs are created and while a sweep runs, so a sweep never sees
    a dir not registered yet.
    """

    def __init__(self, root: str, scratch: tuple[str, ...], shared: bool) -> None:
        self.lock = threading.Lock()
        self.root = root
        self.scratch = scratch
        self.shared = shared  # other slots' jobs may run beside ours
        self.strays_killed = 0
        self.files_swept = 0
        self.ipc_removed = 0
        self.dirty = ""  # why the last cleanup failed: the runner then ends after its answer

    def _expected_tasks(self) -> int:
        """Tasks that are ours when no job runs: init, our threads, the zygote, the testers."""
        return 1 + threading.active_count() + (1 if _ZYGOTE is not None else 0) + len(_ALL_TESTERS)

    def _quiet(self) -> bool:
        """Whether no process but ours exists (never sure while another slot's job runs)."""
        if self.shared:
            return False
        n = _pids_current()
        return n is not None and n == self._expected_tasks()

    def _alive(self, uids: tuple[int, ...]) -> bool:
        """Whether a live (not zombie) process of ``uids`` exists (a /proc scan)."""
        wanted = {str(u).encode() for u in uids}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/status", "rb", buffering=0) as f:
                    data = f.read()
            except OSError:
                continue
            i = data.find(b"\nUid:")
            state = data[data.find(b"State:") + 6 :].split(None, 1)[:1]
            if i >= 0 and data[i + 5 :].split(None, 1)[0] in wanted and state != [b"Z"]:
                return True
        return False

    def kill_slot(self, slot: int) -> bool:
        """Kill every process of the slot's uids; whether none is left."""
        if not _IDS or _ZYGOTE is None or self._quiet():
            return True
        uids = _uids(slot)
        for _ in range(3):
            for uid in uids:
                try:
                    _ZYGOTE.reap(uid)
                except OSError:
                    return False
            self.strays_killed += 1
            until = time.monotonic() + 2.0
            while time.monotonic() < until:  # SIGKILLed processes still need their parents to reap them
                if self._quiet() or ((self.shared or _pids_current() is None) and not self._alive(uids)):
                    return True
                time.sleep(0.002)
        return False

    def clean(self, slot: int, dirs: tuple[str, ...]) -> None:
        """After a job: its processes, dirs, files, IPC objects and queues are gone, or ``dirty`` says why."""
        if not self.kill_slot(slot):
            self.dirty = "processes of a sample could not be killed"
        with self.lock:
            for d in dirs:
                if not _remove_tree(d):
                    self.dirty = self.dirty or f"cannot remove {d}"
            uids = set(_uids(slot)) if _IDS else None
            for d in self.scratch:
                try:
                    entries = list(os.scandir(d))
                except OSError:
                    continue
                for e in entries:
                    try:
                        owner = e.stat(follow_symlinks=False).st_uid
                    except OSError:
                        continue
                    if uids is not None and owner not in uids:
                        continue  # another slot's, or ours (trusted)
                    self.files_swept += 1
                    if not _remove_tree(e.path):
                        self.dirty = self.dirty or f"cannot remove {e.path}"
            objects = _ipc_objects(uids if self.shared else None)
            if objects:
                if _IDS and _ZYGOTE is not None:
                    # IPC_RMID needs the object's creator or owner (CAP_SYS_ADMIN, which we lack):
                    # a zygote child removes them as each of the slot's uids (see ``reap``). Only
                    # the slot's own: a sample may hand an object to another uid, never its creation.
                    for uid in _uids(slot):
                        try:
                            _ZYGOTE.reap(uid)
                        except OSError:
                            pass
                _remove_ipc(objects)  # a local runner's own; in the sandbox, what is left
                self.ipc_removed += len(objects)
                if _ipc_objects(uids if self.shared else None):
                    self.dirty = self.dirty or "cannot remove a sample's IPC objects"


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


class _Started(NamedTuple):
    pid: int
    stdin: Any
    stdout: Any
    stderr: Any
    wait: Any  # wait(timeout) -> rc | None


def _local_preexec(lim: dict[str, Any], extra: tuple[int, ...]) -> Any:
    def pre() -> None:
        _apply_limits(lim)
        # Out of the targets' way; close-on-exec, so only the targets reach the program.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in extra]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)

    return pre


def _start(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    lim: dict[str, Any],
    extra_fds: tuple[int, ...] = (),
    harness: bytes | None = None,
    uid: int | None = None,
) -> _Started:
    """Start a step in its own session, as ``uid`` (contained runners).

    ``extra_fds`` become the step's fds 3, 4, ... and ``harness`` is the source of its script (warm
    Python steps only). In a container every step is a child of the zygote; locally, of ours.
    """
    if _ZYGOTE is not None:
        r0, w0 = os.pipe()
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        try:
            # In-process Python shares the zygote's hash secret (fixed when it started): a step with
            # another PYTHONHASHSEED is exec'd, a fresh interpreter.
            cold = not warm_python(argv) or env.get("PYTHONHASHSEED") != _ZYGOTE.env.get("PYTHONHASHSEED")
            if cold:
                argv = _seeded(argv)
            pid = _ZYGOTE.spawn(argv, cwd, env, lim, [r0, w1, w2, *extra_fds], harness, uid, exec_=cold)
        except BaseException:
            for fd in (w0, r1, r2):
                os.close(fd)
            raise
        finally:
            for fd in (r0, w1, w2):
                os.close(fd)
        z = _ZYGOTE
        return _Started(
            pid, os.fdopen(w0, "wb"), os.fdopen(r1, "rb"), os.fdopen(r2, "rb"), lambda t: z.wait(pid, t)
        )
    p = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so the kill reaches its children
        preexec_fn=_local_preexec(lim, extra_fds),
        # Not pass_fds=(3, 4): the child would check those fds of ours before preexec_fn runs, and
        # another thread may have closed them just then (EBADF). Our own fds are close-on-exec
        # (PEP 446), so without close_fds only stdio and the targets reach the program.
        close_fds=not extra_fds,
    )  # fmt: skip

    def wait(t: float | None) -> int | None:
        try:
            return p.wait(timeout=t)
        except subprocess.TimeoutExpired:
            return None

    return _Started(p.pid, p.stdin, p.stdout, p.stderr, wait)


def _launch(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    lim: dict[str, Any],
    extra_fds: tuple[int, ...] = (),
    harness: bytes | None = None,
    uid: int | None = None,
) -> _Started | dict[str, Any]:
    """``_start``; on failure, the step's result (infra when not its fault)."""
    try:
        return _start(argv, cwd, env, lim, extra_fds, harness, uid)
    except OSError as exc:
        # EAGAIN/ENOMEM while another sample fork-bombs is not this sample's fault: retry it.
        infra = _ZYGOTE is not None or exc.errno in (errno.EAGAIN, errno.ENOMEM)
        return {"rc": None, "error": f"cannot start {argv[0]}: {exc.strerror or exc}", "infra": infra}


def _oom_since(before: int | None, rc: int | None) -> bool:
    """Whether a step that died with ``rc`` was an OOM kill (the cgroup counter moved)."""
    if before is None or rc is None or rc >= 0:
        return False
    after = _oom_kills()
    return after is not None and after > before


def _finish(started: _Started, readers: list[_Capped], deadline: float, slot: int | None) -> dict[str, Any]:
    """Wait for a started step until ``deadline``, kill its group, collect what it wrote."""
    rc = started.wait(max(0.0, deadline - time.monotonic()))
    timed_out = rc is None
    # Kill the group even after a clean exit: background children must not outlive the sample.
    _kill_group(started.pid)
    if timed_out:
        rc = started.wait(10.0)
    if _GUARD is not None and slot is not None and any(r.thread.is_alive() for r in readers):
        _GUARD.kill_slot(slot)  # a setsid daemon may hold the pipes open: every process of the slot goes
    for r in readers:
        r.thread.join(timeout=5.0)  # an escaped process may hold the pipe open: never wait forever
    for r in readers:
        if r.thread.is_alive():
            continue  # closing a buffered file that a thread is reading would block on its lock
        try:
            r.stream.close()
        except OSError:
            pass
    return {
        "rc": rc,
        "timed_out": timed_out,
        "overflow": any(r.overflow for r in readers),
        # A reader still running means the capture may lack the end of the output (the token line):
        # under heavy load that must not read as the model's failure.
        "incomplete": any(r.thread.is_alive() for r in readers),
    }


def _run_step(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    stdin: bytes,
    lim: dict[str, Any],
    deadline: float,
    uid: int | None = None,
    slot: int | None = None,
) -> dict[str, Any]:
    """One command in its own session; killed with its whole process group at the deadline."""
    oom_before = _oom_kills() if _GUARD else None
    started = _launch(argv, cwd, env, lim, uid=uid)
    if isinstance(started, dict):
        return started
    out = _Capped(started.stdout, lim["output_bytes"], lambda: _kill_group(started.pid))
    err = _Capped(started.stderr, lim["output_bytes"], lambda: _kill_group(started.pid))
    try:
        started.stdin.write(stdin)
        started.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    res = _finish(started, [out, err], deadline, slot)
    res["oom"] = _oom_since(oom_before, res["rc"])
    res["stdout"], res["stderr"] = bytes(out.data), bytes(err.data)
    return res


def _run_pair(
    program: dict[str, Any],
    workdir: str,
    judgedir: str,
    env: dict[str, str],
    lim: dict[str, Any],
    deadline: float,
    slot: int,
) -> dict[str, Any]:
    """A two-process language: the trusted judge runs the tests, the candidate serves calls.

    Both get two pipes as fds 3 (read) and 4 (write): the judge's requests are the candidate's fd 3,
    its answers the judge's fd 3. The judge runs as the slot's judge uid in its own dir, which the
    candidate (the slot's sample uid) cannot read; only what the candidate writes on fd 4 reaches it.
    """
    sample_uid, judge_uid = _uids(slot) if _IDS else (None, None)
    oom_before = _oom_kills() if _GUARD else None
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    if _IDS:
        # Let both uids reopen their ends through /proc/self/fd (Lua has no fdopen). A pipe made
        # here is root's, mode 0600; only processes holding an end can reach such a link.
        for fd in (req_r, resp_r):
            os.fchmod(fd, 0o666)
    judge_env = {**env, "HOME": judgedir, "TMPDIR": judgedir}
    try:
        cand = _launch(list(program["run"]), workdir, env, lim, (req_r, resp_w), uid=sample_uid)
        if isinstance(cand, dict):
            return cand
        judge = _launch(list(program["judge"]), judgedir, judge_env, lim, (resp_r, req_w), uid=judge_uid)
        if isinstance(judge, dict):
            _kill_group(cand.pid)
            cand.wait(10.0)
            return {**judge, "infra": True}  # our own judge did not start
    finally:
        for fd in (req_r, req_w, resp_r, resp_w):
            os.close(fd)
    for s in (cand.stdin, judge.stdin):
        s.close()
    cap = lim["output_bytes"]
    c_out = _Capped(cand.stdout, cap, lambda: _kill_group(cand.pid))
    c_err = _Capped(cand.stderr, cap, lambda: _kill_group(cand.pid))
    j_out = _Capped(judge.stdout, cap, lambda: _kill_group(judge.pid))
    j_err = _Capped(judge.stderr, cap, lambda: _kill_group(judge.pid))
    jres = _finish(judge, [j_out, j_err], deadline, None)
    # The judge is done (or out of time): the candidate has nothing more to answer.
    cres = _finish(cand, [c_out, c_err], time.monotonic() + 0.05, slot)
    return {
        "judge_rc": jres["rc"],
        "judge_stderr": bytes(j_err.data),
        "rc": cres["rc"],
        "timed_out": jres["timed_out"],
        "overflow": cres["overflow"] or jres["overflow"],
        "oom": _oom_since(
            oom_before, jres["rc"] if jres["rc"] is not None and jres["rc"] < 0 else cres["rc"]
        ),
        "incomplete": jres["incomplete"],
        "stdout": bytes(c_out.data),
        "stderr": bytes(c_err.data),
        # Still running when the judge was done, and so killed by us: not a crash (or an OOM) of
        # its own, e.g. a candidate that closed its channel and kept computing.
        "cand_killed": cres["timed_out"] and cres["rc"] == -signal.SIGKILL,
    }


# What a two-process judge's exit code says (see Program.judge).
JUDGE_PASSED, JUDGE_FAILED, JUDGE_ERROR, JUDGE_GONE = 0, 1, 2, 3


def _pair_outcome(res: dict[str, Any], program: dict[str, Any]) -> dict[str, str]:
    """The verdict of a two-process step, from the judge's exit code and how the candidate ended."""
    jrc = res["judge_rc"]
    if jrc == -signal.SIGPIPE:
        jrc = JUDGE_GONE  # it wrote to a candidate that had gone (SIGPIPE is not ignored locally)
    jerr = _tail(res["judge_stderr"])
    if not res["timed_out"] and not res["overflow"]:
        if jrc == JUDGE_PASSED:
            return {"status": "passed", "reason": "", "stderr_tail": ""}
        if jrc in (JUDGE_FAILED, JUDGE_ERROR):
            last = next((ln for ln in reversed(jerr.splitlines()) if ln.strip()), "the tests failed")
            tail = _tail(res["stderr"] + b"\n" + res["judge_stderr"]) if res["stderr"].strip() else jerr
            status = "failed" if jrc == JUDGE_FAILED else "error"
            return {"status": status, "reason": last.strip()[:200], "stderr_tail": tail}
        if jrc != JUDGE_GONE and not res["oom"]:
            return {
                "status": "error",
                "reason": f"the judge ended with {jrc}",
                "stderr_tail": jerr,
            }
    if (
        jrc == JUDGE_GONE
        and res.get("cand_killed")
        and not (res["timed_out"] or res["overflow"] or res["oom"])
    ):
        return {
            "status": "error",
            "reason": "the candidate stopped answering the tests (its channel closed, the process ran on)",
            "stderr_tail": _tail(res["stderr"]),
        }
    # The candidate ended (or the time did): judge the candidate by how it ended.
    cand = {**res, "rc": res["rc"] if res["rc"] not in (None, 0) else 1}
    if res["rc"] == 0 and not res["timed_out"]:
        cand["stderr"] = (
            res["stderr"] + b"\nCandidateFailed: the candidate exited while the tests needed it\n"
        )
    return _classify_failure(cand, program, "run")


def _run_warm(
    warm: _Warm, cwd: str, env: dict[str, str], lim: dict[str, Any], deadline: float, slot: int
) -> dict[str, Any]:
    """A warm Python step: the candidate (fresh, from the zygote) serves calls on fds 3 and 4, its
    code on fd 5, while this worker's tester runs the tests against it. One thread, no readers: a
    poll loop captures the candidate's output (capped) until the tester answers or the deadline.

    Returns ``_run_step``'s fields plus ``"tester"``: the answer, None at the deadline.
    """
    oom_before = _oom_kills()
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    code = os.memfd_create("candidate")  # the candidate's code never sits in a shared dir
    with open(code, "wb", closefd=False) as f:
        f.write(warm.code)
    os.lseek(code, 0, os.SEEK_SET)
    uid = _uids(slot)[0] if _IDS else None
    harness: bytes | None = warm.driver
    if _ZYGOTE is not None and warm.seed != _ZYGOTE.env.get("PYTHONHASHSEED"):
        # Another hash seed than the zygote's: the candidate is exec'd (see _start), so the driver
        # it runs must be a file; the sample may change it, but only in its own process.
        _write_files(cwd, {warm.argv[2]: warm.driver.decode()}, uid)
        harness = None
    try:
        started = _launch(warm.argv, cwd, env, lim, (req_r, resp_w, code), harness, uid)
    finally:
        for fd in (req_r, resp_w, code):
            os.close(fd)
    if isinstance(started, dict):
        os.close(req_w)
        os.close(resp_r)
        return started
    pid, sin, sout, serr, wait = started
    sin.close()
    tester = _tester(warm.driver, warm.seed)
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
    overflow = timed_out = False

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
                break
            for fd, _ in poller.poll(left * 1000):
                if fd == tester.sock.fileno():
                    answer = tester.answer()
                elif fd in open_fds:
                    pump(fd)
    except Sabotage:
        _kill_group(pid)
        wait(10.0)
        raise
    finally:
        if answer is None:
            _drop_tester()  # at the deadline (or dead): its stream may be mid-answer
    _kill_group(pid)  # done with the candidate, whatever the tests said
    rc = wait(10.0)  # also lets the cleanup's count of processes see it gone
    if answer is not None and not answer["gone"] and not overflow:
        rc = None  # the tests decided: how the (now killed) candidate ends changes nothing
    for wait_ms, strays_first in ((50, False), (2000, True)):
        if not open_fds:
            break
        if strays_first and _GUARD is not None:
            _GUARD.kill_slot(slot)  # a setsid daemon may hold the pipes open
        drain_until = time.monotonic() + wait_ms / 1000
        while open_fds and time.monotonic() < drain_until:
            for fd, _ in poller.poll(wait_ms / 10):
                if fd in open_fds:
                    pump(fd)
    sout.close()
    serr.close()
    return {
        "tester": answer,
        "rc": rc,
        "timed_out": timed_out,
        "overflow": overflow,
        "oom": _oom_since(oom_before, rc),
        "incomplete": bool(open_fds),
        "stdout": bytes(bufs[out_fd]),
        "stderr": bytes(bufs[err_fd]),
    }


def _classify_failure(res: dict[str, Any], program: dict[str, Any], stage: str) -> dict[str, str]:
    """A failed step's verdict. ``oom`` only from the cgroup's counter (or, outside a container, a
    SIGKILL nobody in the harness sent): never from what the sample printed."""
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
        # A fixed hash seed for every Python process: set iteration order, and so a verdict, is
        # the same on every run. The zygote and the warm testers start with this one; a job may
        # carry its own (``hash_seed``), whose Python processes then start fresh (see _start).
        "PYTHONHASHSEED": PYTHON_HASH_SEED,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.update(extra)
    return env


PYTHON_HASH_SEED = "0"


def _write_files(workdir: str, files: dict[str, str], owner: int | None) -> None:
    """Write a job's files into its (new, empty) dir; ``owner``: chown them to that uid."""
    for rel, content in files.items():
        path = os.path.normpath(os.path.join(workdir, rel))
        if not path.startswith(workdir + os.sep):
            raise ValueError(f"file path escapes the work dir: {rel!r}")
        parent = os.path.dirname(path)
        if parent != workdir and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
            if owner is not None:
                d = parent
                while d != workdir:
                    os.chown(d, owner, owner)
                    d = os.path.dirname(d)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with open(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(content)
        if owner is not None:
            os.chown(path, owner, owner)


class _Warm(NamedTuple):
    """How to judge a Python program warm: see ``Program.warm_tests``."""

    driver: bytes  # hel_pydriver.py's source: the tester's code and the candidate's harness
    tests: bytes  # the tests JSON, only ever sent to the tester
    code: bytes  # the candidate's code (prompt + completion)
    argv: list[str]
    seed: str  # PYTHONHASHSEED of the candidate and the tests


def _warm_plan(program: dict[str, Any], seed: str) -> _Warm | None:
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
        seed,
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


def _final(outcome: dict[str, str], res: dict[str, Any], start: float, timeout_s: float) -> dict[str, Any]:
    """The outcome with its duration; a verdict another sample may have caused is not final.

    The deadline is checked again on the monotonic clock: an answer that came later than the
    limit (plus what the harness itself needs) is a timeout whatever it says.

    Samples in one container share its memory and pids: when ours died of a signal nobody in the
    harness sent, and other samples ran beside it, the host judges it again alone (``"solo"``).
    """
    elapsed = time.monotonic() - start
    if outcome["status"] == "passed" and elapsed > timeout_s + 1.0:
        outcome = {"status": "timeout", "reason": "answered after the time limit", "stderr_tail": ""}
    if _SHARED and outcome["status"] in ("crashed", "oom"):
        return {
            "status": "infra_error",
            "reason": f"{outcome['reason'] or outcome['status']}, with other samples beside it: judged again alone",
            "stderr_tail": outcome.get("stderr_tail", ""),
            "duration_s": elapsed,
            "solo": True,
        }
    return {**outcome, "duration_s": elapsed}


def _new_dir(path: str, owner: int | None) -> str:
    """An empty dir at ``path`` (a fresh random one if a removal failed), owned by ``owner``."""
    for _ in range(2):
        try:
            os.mkdir(path, 0o700)
            break
        except FileExistsError:
            _remove_tree(path)
    else:
        path = tempfile.mkdtemp(prefix="hel-", dir=os.path.dirname(path))
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def _token_outcome(res: dict[str, Any], program: dict[str, Any], token: str) -> dict[str, str]:
    """The verdict of a token-judged run step (see humaneval_lab.execution.base)."""
    stdout_lines = [ln.strip() for ln in res["stdout"].decode("utf-8", "replace").splitlines()]
    token_seen = token in stdout_lines
    if res["rc"] == INFRA_EXIT and f"hel-infra {token}" in stdout_lines:
        # Only trusted code knows the token: the driver itself could not work (fork failed...).
        return {
            "status": "infra_error",
            "reason": "the test driver could not start the candidate",
            "stderr_tail": _tail(res["stderr"]),
        }
    if res["rc"] == 0 and not res["timed_out"] and not res["overflow"]:
        if not token_seen and res.get("incomplete"):
            return {
                "status": "infra_error",
                "reason": "the output capture did not finish; retried",
                "stderr_tail": _tail(res["stderr"]),
            }
        if not token_seen:
            return {
                "status": "failed",
                "reason": "exited 0 before the tests finished",
                "stderr_tail": _tail(res["stderr"]),
            }
        if program.get("require_empty_stderr") and res["stderr"].strip():
            last = res["stderr"].decode("utf-8", "replace").strip().splitlines()[-1]
            return {"status": "failed", "reason": last[:200], "stderr_tail": _tail(res["stderr"])}
        return {"status": "passed", "reason": "", "stderr_tail": ""}
    return _classify_failure(res, program, "run")


def execute_job(job: dict[str, Any], root: str | None = None) -> dict[str, Any]:
    """Judge one job; returns an outcome dict (status, reason, stderr_tail, duration_s)."""
    start = time.monotonic()
    program, lim = job["program"], job["limits"]
    timeout_s = float(lim["timeout_s"])
    deadline = start + timeout_s
    token = secrets.token_hex(16)
    guard = _GUARD
    slot = _slot()
    sample_uid, judge_uid = _uids(slot) if _IDS else (None, None)
    dirs: list[str] = []
    if guard:
        # Create and register the dirs under the guard's lock, so a sweep from a job finishing on
        # another thread never sees (and deletes) a dir not yet registered.
        with guard.lock:
            workdir = _new_dir(os.path.join(root or "/work", f"job{slot}"), sample_uid)
            dirs.append(workdir)
            judgedir = ""
            if program.get("judge"):
                judgedir = _new_dir(os.path.join(root or "/work", f"judge{slot}"), judge_uid)
                dirs.append(judgedir)
    else:
        workdir = tempfile.mkdtemp(prefix="hel-", dir=root)
        judgedir = tempfile.mkdtemp(prefix="hel-judge-", dir=root) if program.get("judge") else ""
        dirs += [d for d in (workdir, judgedir) if d]
    env = _base_env(
        workdir,
        {
            k.replace("{workdir}", workdir): v.replace("{workdir}", workdir)
            for k, v in program.get("env", {}).items()
        },
    )
    if job.get("hash_seed") is not None:
        # The host's choice for this sample (recorded with its verdict): every process of the job,
        # the Python candidate and its tests alike, hashes str/bytes with it, run after run.
        env["PYTHONHASHSEED"] = str(int(job["hash_seed"]))
    warm = _warm_plan(program, env["PYTHONHASHSEED"])
    try:
        # Warm, the work dir starts empty: tests, driver and code reach their processes directly.
        _write_files(workdir, {} if warm else program["files"], sample_uid)
        if judgedir:
            _write_files(judgedir, program.get("judge_files", {}), judge_uid)
        for argv in program.get("compile", ()):
            res = _run_step(list(argv), workdir, env, b"", lim, deadline, sample_uid, slot)
            if "error" in res:  # it did not start
                return _not_started(res, start)
            if res["rc"] != 0 or res["timed_out"] or res["overflow"]:
                out = _classify_failure(res, program, "compile")
                if out["status"] == "error":
                    # compilers often report on stdout (javac, tsc): keep both
                    out["stderr_tail"] = _tail(res["stdout"] + res["stderr"])
                return _final(out, res, start, timeout_s)
        if warm is not None:
            res = _run_warm(warm, workdir, env, lim, deadline, slot)
            if "error" in res:
                return _not_started(res, start)
            return _final(_warm_outcome(res, program), res, start, timeout_s)
        if judgedir:
            res = _run_pair(program, workdir, judgedir, env, lim, deadline, slot)
            if "error" in res:
                return _not_started(res, start)
            return _final(_pair_outcome(res, program), res, start, timeout_s)
        res = _run_step(
            list(program["run"]), workdir, env, (token + "\n").encode(), lim, deadline, sample_uid, slot
        )
        if "error" in res:  # it did not start
            return _not_started(res, start)
        return _final(_token_outcome(res, program, token), res, start, timeout_s)
    finally:
        if guard:
            guard.clean(slot, tuple(dirs))
        else:
            for d in dirs:
                _remove_tree(d)


# ------------------------------------------------------------------------------------------ channel

# Every line between host and runner, both ways, is "<mac> <json>": the mac is HMAC-SHA256 (first
# 32 hex digits) of the json under a per-container key the host sends before any job. No sample can
# reach the stream (other uids), and a line without the right mac is tampering: the runner ends, the
# host declares the container dead and re-runs its jobs elsewhere.
MAC_HEX = 32


def mac_of(key: bytes, body: bytes) -> bytes:
    return hmac.digest(key, body, "sha256").hex()[:MAC_HEX].encode()


def seal(key: bytes, obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return mac_of(key, body) + b" " + body + b"\n"


def unseal(key: bytes, line: bytes) -> Any:
    """The message of a sealed line; ValueError when its mac is wrong."""
    mac, _, body = line.rstrip(b"\n").partition(b" ")
    if not hmac.compare_digest(mac, mac_of(key, body)):
        raise ValueError("bad mac")
    return json.loads(body)


def serve(workers: int, root: str | None = None, contained: bool = False) -> None:
    """Read jobs from stdin, judge them on ``workers`` threads, write outcomes to stdout.

    The first line on stdin is the channel's key (hex). ``contained``: we are alone in a sandbox
    container (never on the user's machine): start the zygote, run every job's processes under
    uids of their own (when started as root), clean up after every job.
    """
    global _ZYGOTE, _GUARD, _SHARED, _IDS
    out_lock = threading.Lock()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    key = bytes.fromhex(stdin.readline().decode().strip())
    if contained:
        _SHARED = workers > 1
        _IDS = os.geteuid() == 0
        set_non_dumpable()
        root = root or "/work"
        scratch = tuple(d for d in (root, "/tmp", "/dev/shm", "/dev/mqueue") if os.path.isdir(d))
        _GUARD = _Guard(root, scratch, shared=_SHARED)
        try:
            _ZYGOTE = _Zygote(os.path.join(root, "job0"))
        except OSError:
            _ZYGOTE = None

    def emit(obj: dict[str, Any]) -> None:
        line = seal(key, obj)
        with out_lock:
            stdout.write(line)
            stdout.flush()

    def work(job: dict[str, Any]) -> None:
        emit({"start": job["id"]})
        try:
            outcome = execute_job(job, root)
            if contained and not _machinery_intact():
                raise Sabotage("the zygote or a tester was killed or stopped")
        except Sabotage:
            # The zygote or a tester died under us (the OOM killer may pick them): end the runner
            # without a verdict, so the host re-runs every job in flight in a fresh container.
            os._exit(70)
        except Exception as exc:  # report, never die: the host retries infrastructure errors
            outcome = {
                "status": "infra_error",
                "reason": f"runner: {type(exc).__name__}: {exc}",
                "stderr_tail": "",
                "duration_s": 0.0,
            }
        emit({"id": job["id"], "outcome": outcome})
        if _GUARD is not None and _GUARD.dirty:
            # What a sample left could not be removed: this container serves no later sample.
            sys.stderr.write(f"runner: {_GUARD.dirty}; ending\n")
            sys.stderr.flush()
            os._exit(71)

    emit(
        {
            "ready": True,
            "pid": os.getpid(),
            "zygote": _ZYGOTE is not None,
            "uids": _IDS,
            "oom_counter": _oom_kills() is not None,
            "cpus": sorted(os.sched_getaffinity(0)),  # the host may pin this container to some of them
        }
    )
    shared: dict[str, str] = {}  # big files jobs repeat, by sha256: the host names them in later jobs
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for line in stdin:
            try:
                msg = unseal(key, line)
            except ValueError:
                os._exit(72)  # not from the host
            if msg.get("shutdown"):
                break
            if msg.get("stats"):
                g = _GUARD
                emit(
                    {
                        "stats": {
                            "strays_killed": g.strays_killed if g else 0,
                            "files_swept": g.files_swept if g else 0,
                            "ipc_removed": g.ipc_removed if g else 0,
                        }
                    }
                )
                continue
            job = msg["job"]
            files = job["program"]["files"]
            for name, digest in job.get("keep", {}).items():
                text = files[name]
                if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() == digest:
                    shared[digest] = text  # kept only under its true hash
            for name, digest in job.get("shared", {}).items():
                files[name] = shared[digest]  # the host sent it with an earlier job, to keep
            pool.submit(work, job)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count() or 1)
