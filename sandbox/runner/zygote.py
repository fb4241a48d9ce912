"""The zygote process: a clean interpreter, started once per container, that forks every job process.

The runner starts it (``python3 -s -P``, the module loaded from the runner's bundle, see ``boot``)
with one end of a SOCK_SEQPACKET socket; its handle there is ``children.Zygote``. It never receives
a job's files, tests or token (only argv, cwd, env, limits, a uid and the child's fds), so a forked
sample finds nothing secret in its inherited memory. One request per datagram with the child's fds
attached as SCM_RIGHTS (stdio, then e.g. a warm candidate's call pipes and code); it answers
``{"pid": ...}`` in request order and ``{"exit": pid, "rc": ...}`` when a child ends (rc < 0: killed
by that signal, as subprocess reports it).

In the sandbox the zygote runs as root with the few capabilities the runner keeps; a child drops to
the request's uid (groups, gid, uid: every capability goes with it) before it reads anything the job
controls, so a file a sample replaced with a symlink is read with the sample's rights. A request
either runs ``python3 -I script`` in-process (the fork is the start), ``exec``s a program, or
``reap``s: kills every process of its uid (kill(-1) as that uid, atomic against fork), removes that
uid's SysV IPC objects and exits.

A request may name a *harness* (our own trusted script, e.g. hel_pydriver.py, by sha256; its source
comes along the first time): the zygote runs its top level once and each child just calls its
``main(argv)``, so a child does not define the harness's functions again (copy-on-write page faults:
~2 ms a child). Harnesses come from the runner, never from a job's work dir.

What this module imports is in every forked sample's memory: keep it to the standard library's
basics and the runner's ``limits`` and ``proc``.
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys
import types
from typing import Any, NoReturn

from . import limits, proc

# Warm what judged programs import anyway, so each forked child finds it loaded (imports are most
# of a small program's run time). Nothing here holds job data.
WARM = (
    "ast,json,marshal,math,struct,ctypes,traceback,typing,re,collections,itertools,functools,heapq,"
    "string,copy,hashlib,datetime,statistics,fractions,decimal,random"
)

_harnesses: dict[str, dict[str, Any]] = {}  # harness namespaces, by sha256 of their source


def _harness_of(req: dict[str, Any]) -> dict[str, Any] | None:
    sha = req.get("harness")
    if not sha:
        return None
    if sha not in _harnesses:
        ns: dict[str, Any] = {"__name__": "hel_harness", "__file__": req["argv"][0]}
        exec(compile(req["harness_source"], req["argv"][0], "exec", dont_inherit=True), ns)
        _harnesses[sha] = ns
        gc.freeze()  # keep it out of the children's collections (fewer copy-on-write pages)
    return _harnesses[sha]


def _drop(uid: int | None) -> None:
    # Groups, then gid, then uid: once the uid is not 0 every capability is gone for good.
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)


def _reap(uid: int) -> NoReturn:
    # One kill(-1) as that uid reaches every process of it but us, atomically: a fork either made
    # its child before (the child is killed too) or fails, its parent's SIGKILL pending. (It says
    # success whenever other processes exist, so there is nothing to learn from its return.)
    _drop(uid)
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    # Then its SysV IPC objects: IPC_RMID needs the object's owner or creator (or CAP_SYS_ADMIN,
    # which the runner does not have), so they go here, as that uid, by owner or by creator (an
    # owner may hand an object to another uid; the creator stays).
    try:
        proc.remove_ipc(proc.ipc_objects({uid}))
    except Exception:
        pass
    os._exit(0)


def _child(req: dict[str, Any], fds: list[int], harness: dict[str, Any] | None) -> NoReturn:
    if "reap" in req:
        _reap(req["reap"])
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
    limits.apply(req["limits"])
    _drop(req.get("uid"))
    os.chdir(req["cwd"])
    sys.argv = list(req["argv"])
    if req.get("exec"):
        try:
            os.execvpe(sys.argv[0], sys.argv, os.environ)
        except OSError as exc:
            os.write(2, f"cannot start {sys.argv[0]}: {exc.strerror or exc}\n".encode())
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
        if isinstance(c, int):
            status = c
        elif c is None:
            status = 0
        else:
            print(c, file=sys.stderr)
            status = 1
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


def main(argv: list[str]) -> None:
    """Serve fork requests on the socket whose fd is ``argv[0]`` until the runner closes it."""
    if proc.set_non_dumpable():  # inherited by every child
        sys._hel_non_dumpable = True  # type: ignore[attr-defined]  # hel_pydriver need not load ctypes again (~1 ms)
    for m in (WARM + "," + os.environ.pop("HEL_PRELOAD", "")).split(","):
        if m:
            try:
                __import__(m)
            except Exception:
                pass
    gc.freeze()
    sock = socket.socket(fileno=int(argv[0]))
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    watched: list[Any] = [sock, rfd]
    while True:
        r, _, _ = select.select(watched, [], [])
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
                harness = _harness_of(req)
                pid = os.fork()
            except Exception as exc:
                for fd in fds:
                    os.close(fd)
                sock.sendall(json.dumps({"pid": None, "error": str(exc)}).encode() + b"\n")
                continue
            if pid == 0:
                try:
                    _child(req, fds, harness)
                finally:
                    os._exit(70)
            for fd in fds:
                os.close(fd)
            sock.sendall(b'{"pid": %d}\n' % pid)
