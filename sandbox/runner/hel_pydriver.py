"""Trusted test driver for Python: the tests and the candidate run in two processes. Stdlib only.

Two ways to run it:

- standalone: ``python3 -I hel_pydriver.py CANDIDATE_FILE TESTS_FILE`` forks the candidate, runs the
  tests, prints the runner's token (read from stdin) only after they returned;
- warm (inside the sandbox): the runner keeps one long-lived trusted *tester* per worker
  (``serve_tests``) and starts each candidate alone, from its clean zygote, as
  ``hel_pydriver.py --candidate CANDIDATE_NAME ENTRY_POINT`` with the call pipes on fds 3 and 4 and
  its code on fd 5. Nothing is written to the work dir, the tests go only to the tester, and the
  verdict comes back over a private socket, so no token is needed; each sample costs one fresh
  process instead of two.

TESTS_FILE is JSON: {"entry_point", "prelude" (trusted code whose helpers the tests use, e.g. the
problem's prompt), "tests" (top-level test code that calls the entry point)}.

Standalone, order matters, and is the whole point:

1. fork the candidate process first, before anything secret exists in this one; it points its
   stdin at /dev/null and waits for a go;
2. read the runner's token from stdin, read the tests and delete their file from the work dir;
3. tell the candidate to load its code (prompt + completion) and then to serve calls;
4. run the tests here, with the entry point bound to a proxy: arguments go over a pipe by value
   (marshal, written by trusted code), results come back as Python literal text parsed with
   ``ast.literal_eval``, so only plain values (numbers, strings, bytes, None, and lists, tuples,
   dicts and sets of them) can cross. The candidate never sees the tests, the expected values,
   the token, or this process's memory (non-dumpable: no ptrace, no /proc/<pid>/mem);
5. print the token on a line of its own only after the tests returned.

A candidate that exits, kills itself, returns an object that is not a plain value (say one whose
``__eq__`` is always true), or patches anything, only changes what crosses the pipe: the test
fails. Exceptions the candidate raises are re-raised here by builtin type name.
"""

from __future__ import annotations

import ast
import builtins
import json
import marshal
import math
import os
import signal
import socket
import struct
import sys
from typing import Any

INFRA_EXIT = 75
MAX_MESSAGE = 64 << 20
_NONFINITE = "\x00hel-float"


def _non_dumpable() -> None:
    if getattr(sys, "_hel_non_dumpable", False):
        return  # forked from the runner's zygote, which is non-dumpable already
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except Exception:
        pass


def _read_exact(fd: int, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _send(fd: int, payload: bytes) -> None:
    data = struct.pack("<I", len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _recv(fd: int) -> bytes:
    (n,) = struct.unpack("<I", _read_exact(fd, 4))
    if n > MAX_MESSAGE:
        raise ValueError(f"message of {n} bytes is too large")
    return _read_exact(fd, n)


# ------------------------------------------------------------------------------------------ candidate side


def _encode(v: Any, depth: int = 0) -> str:
    """Literal source for a plain value; numpy scalars and arrays become Python values."""
    if depth > 100:
        raise TypeError("value nested too deeply")
    t = type(v)
    if v is None or t is bool or t is int or t is str or t is bytes or t is complex:
        return repr(v)
    if t is float:
        return repr(v) if math.isfinite(v) else f"({_NONFINITE!r}, {repr(v)!r})"
    if t is list:
        return "[" + ", ".join(_encode(x, depth + 1) for x in v) + "]"
    if t is tuple:
        return "(" + "".join(_encode(x, depth + 1) + ", " for x in v) + ")"
    if t is dict:
        return (
            "{" + ", ".join(f"{_encode(k, depth + 1)}: {_encode(x, depth + 1)}" for k, x in v.items()) + "}"
        )
    if t is set or t is frozenset:
        items = ", ".join(_encode(x, depth + 1) for x in v)
        return f"{{{items}}}" if items else "set()"
    if getattr(t, "__module__", "") == "numpy" and hasattr(v, "tolist"):
        return _encode(v.tolist(), depth + 1)
    for base in (bool, int, float, str, bytes):  # subclasses (IntEnum, str subclasses, ...) by value
        if isinstance(v, base):
            return _encode(base(v), depth + 1)  # type: ignore[arg-type]
    # Containers' subclasses (Counter, OrderedDict, defaultdict, namedtuple, ...) cross by value, as
    # == with a plain value compares them. Read through the base type's own methods: an overridden
    # __iter__ or items() cannot change what crosses, and no method of theirs runs here.
    if isinstance(v, dict):
        return _encode(dict(dict.items(v)), depth + 1)
    if isinstance(v, (list, tuple, set, frozenset)):
        kind: Any = next(b for b in (list, tuple, set, frozenset) if isinstance(v, b))
        return _encode(kind(kind.__iter__(v)), depth + 1)
    raise TypeError(f"returned a {t.__module__}.{t.__qualname__}, which is not a plain value")


MAX_FRAMES = 12  # a deep recursion's 1000 frames would bury the line that matters


def _own_traceback(exc: BaseException, path: str, source: str) -> str:
    """The candidate's exception as a traceback of its own frames only: ``File "candidate.py", line N``
    with the line (taken from ``source``: warm, the code never sits on disk for linecache to read),
    never this harness's frames. Frames of libraries the candidate called are kept after its first."""
    import traceback

    here = _candidate.__code__.co_filename
    lines = source.splitlines()
    frames: list[str] = []
    for f in traceback.extract_tb(exc.__traceback__):
        if f.filename == here or (not frames and f.filename != path):
            continue  # the harness, before the candidate's first frame
        text = f.line or ""
        if f.filename == path and f.lineno and 0 < f.lineno <= len(lines):
            text = lines[f.lineno - 1].strip()
        frames.append(
            f'  File "{f.filename}", line {f.lineno}, in {f.name}\n' + (f"    {text}\n" if text else "")
        )
    if len(frames) > MAX_FRAMES:
        frames[3:-8] = [f"  ... {len(frames) - 11} more frames ...\n"]
    head = "Traceback (most recent call last):\n" if frames else ""
    return head + "".join(frames) + "".join(traceback.format_exception_only(type(exc), exc))


def _say(text: str) -> None:
    """Write to fd 2 itself: a candidate that replaced ``sys.stderr`` still shows where it failed."""
    try:
        sys.stderr.flush()  # what it printed first stays first
    except Exception:
        pass
    data = memoryview(text[-8000:].encode("utf-8", "replace"))
    try:
        while data:
            data = data[os.write(2, data) :]
    except OSError:
        pass  # the candidate closed its stderr: its verdict does not depend on it


def _candidate(path: str, entry: str, go_r: int | None, req_r: int, resp_w: int, code_fd: int = -1) -> None:
    """The candidate process: wait for go (standalone), load the code, serve calls until EOF.

    ``code_fd``: read the code from this fd (warm) instead of ``path`` (used for tracebacks only).
    """
    if go_r is not None:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # the token will arrive on the driver's stdin; never let this process read it
        os.close(devnull)
        sys.stdin = open(0, closefd=False)
        if not os.read(go_r, 1):
            os._exit(0)
        os.close(go_r)
    with open(path if code_fd < 0 else code_fd, encoding="utf-8", errors="surrogateescape") as f:
        source = f.read()
    ns: dict[str, object] = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        # dont_inherit: plain Python semantics, not this file's ``from __future__ import annotations``
        # (under which ``-> List[int]`` without importing List would not fail as python3 fails it).
        exec(compile(source, path, "exec", dont_inherit=True), ns)
        fn = ns[entry]
        if not callable(fn):
            raise TypeError(f"{entry} is not callable")
    except BaseException as exc:  # noqa: BLE001 - report anything, including SystemExit
        _say(_own_traceback(exc, path, source))
        _send(resp_w, repr(("load-error", type(exc).__name__, str(exc)[:2000])).encode())
        os._exit(0)
    _send(resp_w, b"('ok',)")
    while True:
        try:
            args, kwargs = marshal.loads(_recv(req_r))
        except EOFError:
            os._exit(0)
        try:
            value = fn(*args, **kwargs)
            limit = sys.get_int_max_str_digits()
            sys.set_int_max_str_digits(0)  # an int of any size crosses; the candidate's own limit stays
            try:
                reply = "('ok', " + _encode(value) + ")"
            finally:
                sys.set_int_max_str_digits(limit)
        except BaseException as exc:  # noqa: BLE001
            if not (isinstance(exc, TypeError) and str(exc).startswith("returned a ")):
                _say(_own_traceback(exc, path, source))  # where in its code it raised, for the report
            reply = repr(("raise", type(exc).__name__, str(exc)[:2000]))
        _send(resp_w, reply.encode("utf-8", "surrogatepass"))


# ------------------------------------------------------------------------------------------ test side


class CandidateFailed(AssertionError):
    """The candidate exited, died, or returned something that is not a plain value."""


def _decode(v: object) -> object:
    if type(v) is tuple and len(v) == 2 and v[0] == _NONFINITE:
        return float(v[1])
    if type(v) is list:
        return [_decode(x) for x in v]
    if type(v) is tuple:
        return tuple(_decode(x) for x in v)
    if type(v) is dict:
        return {_decode(k): _decode(x) for k, x in v.items()}
    return v


def _exception(name: object, message: object) -> BaseException:
    cls = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(cls, type) and issubclass(cls, BaseException) and not issubclass(cls, Exception):
        # SystemExit, KeyboardInterrupt, GeneratorExit: a way out of the tests, never a pass.
        return CandidateFailed(f"candidate raised {name}: {message}")
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
        try:
            return cls(message)
        except Exception:
            pass
    return RuntimeError(f"{name}: {message}")


class CandidateGone(CandidateFailed):
    """The candidate process ended (exited, was killed) while the tests still needed it."""


class LoadFailed(Exception):
    """The candidate's code did not load; ``str()`` is the line to report."""


class _Proxy:
    """Stands for the entry point in the tests' namespace; each call is a round trip to the candidate."""

    def __init__(self, req_w: int, resp_r: int, name: str, on_gone: Any) -> None:
        self.req_w, self.resp_r, self.__name__, self._on_gone = req_w, resp_r, name, on_gone
        self.gone = False
        # The latest call and how it ended, formatted only if a test fails (a repr per call would
        # cost the sample time on big values): (args, kwargs), and ("returned", value) / ("raised", name).
        self.last_call: tuple[tuple[object, ...], dict[str, object]] | None = None
        self.last_end: tuple[str, object] | None = None

    def _reply(self) -> tuple[object, ...]:
        try:
            raw = _recv(self.resp_r)
        except EOFError:
            self.gone = True
            self._on_gone()
            raise CandidateGone("candidate process ended") from None
        limit = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)  # an int over 4,300 digits is still a plain value
        try:
            msg = ast.literal_eval(raw.decode("utf-8", "surrogatepass"))
        except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
            raise CandidateFailed(f"candidate sent an unreadable reply ({type(exc).__name__})") from None
        finally:
            sys.set_int_max_str_digits(limit)
        if type(msg) is not tuple or not msg or msg[0] not in ("ok", "raise", "load-error"):
            raise CandidateFailed("candidate sent a malformed reply")
        return msg

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.last_call, self.last_end = (args, kwargs), None
        try:
            payload = marshal.dumps((args, kwargs))  # type: ignore[arg-type]
        except ValueError:
            raise TypeError("the test passed a value that cannot be sent to the candidate") from None
        try:
            _send(self.req_w, payload)
        except BrokenPipeError:
            pass  # the candidate is gone: _reply reports how
        msg = self._reply()
        if msg[0] == "ok" and len(msg) == 2:
            value = _decode(msg[1])
            self.last_end = ("returned", value)
            return value
        if msg[0] == "raise" and len(msg) == 3:
            self.last_end = ("raised", msg[1])
            if msg[1] == "TypeError" and str(msg[2]).startswith("returned a "):
                raise CandidateFailed(f"candidate {msg[2]}")
            raise _exception(msg[1], msg[2])
        raise CandidateFailed("candidate sent a malformed reply")


def _short(v: object, limit: int) -> str:
    """A bounded repr: reprlib cuts long containers and strings before they are built in full."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxtuple, r.maxset, r.maxdict = 4, 10, 10, 10, 6
    r.maxstring, r.maxlong, r.maxother = limit, limit, limit
    try:
        text = r.repr(v)
    except Exception:  # e.g. an int past the digit limit
        text = f"<a {type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call_text(proxy: _Proxy) -> tuple[str, str]:
    """(``name(args)``, ``returned X`` / ``raised E`` / ""): the latest call, for the reason."""
    if proxy.last_call is None:
        return "", ""
    args, kwargs = proxy.last_call
    parts = [_short(a, 60) for a in args] + [f"{k}={_short(v, 40)}" for k, v in kwargs.items()]
    text = ", ".join(parts)
    call = f"{proxy.__name__}({text if len(text) <= 100 else text[:97] + '...'})"
    if proxy.last_end is None:
        return call, ""
    how, what = proxy.last_end
    return call, (f"returned {_short(what, 60)}" if how == "returned" else f"raised {what}")


_SOURCES = {"<tests>": "tests", "<prompt>": "prelude"}


def explain(exc: BaseException, spec: dict[str, Any], proxy: _Proxy) -> str:
    """Why the tests failed, for a reader: the tests' own frames as their source lines, never this
    harness's, and a last line (the verdict's ``reason``) with the failing test line and the call.

    ``File "test", line N`` counts lines of the problem's test code (``check(...)`` appended for
    HumanEval); the candidate's frames, if it raised, are on its own stderr (``_own_traceback``).
    """
    import traceback

    frames: list[str] = []
    where = ""
    for f in traceback.extract_tb(exc.__traceback__):
        key = _SOURCES.get(f.filename)
        if key is None or not f.lineno:
            continue
        lines = str(spec.get(key) or "").splitlines()
        text = lines[f.lineno - 1].strip() if 0 < f.lineno <= len(lines) else ""
        label = "test" if key == "tests" else "prompt"
        frames.append(f'  File "{label}", line {f.lineno}, in {f.name}\n    {text}\n')
        where = text or f"{label} line {f.lineno}"
    name = "CandidateFailed" if isinstance(exc, CandidateFailed) else type(exc).__name__
    message = str(exc)
    call, end = _call_text(proxy)
    if isinstance(exc, AssertionError) and not isinstance(exc, CandidateFailed):
        # "assert candidate(x) == y" with what the call gave: the input and the wrong answer.
        detail = "; ".join(x for x in (message, f"{call} {end}" if end.startswith("returned") else "") if x)
        reason = f"{name}: {where}" + (f" ({detail})" if detail else "")
    else:
        context = "; ".join(x for x in (f"in {call}" if call else "", where) if x)
        reason = f"{name}: {message}" + (f" ({context})" if context else "")
    head = "Traceback (most recent call last):\n" if frames else ""
    return head + "".join(frames[-MAX_FRAMES:]) + reason.replace("\n", " ") + "\n"


_COMPILED: dict[tuple[str, str], Any] = {}


def _compiled(source: str, name: str) -> Any:
    """Compiled trusted code (prelude, tests), cached: a warm tester sees each problem many times."""
    key = (source, name)
    code = _COMPILED.get(key)
    if code is None:
        if len(_COMPILED) > 512:
            _COMPILED.clear()
        code = _COMPILED[key] = compile(source, name, "exec", dont_inherit=True)
    return code


def run_tests(spec: dict[str, Any], proxy: _Proxy) -> None:
    """Wait for the candidate to load, then run the tests against it; raises on any failure."""
    first = proxy._reply()
    if first[0] == "load-error":
        if first[1] in ("SystemExit", "KeyboardInterrupt", "GeneratorExit"):
            raise LoadFailed(f"CandidateFailed: the candidate raised {first[1]} while loading")
        raise LoadFailed(f"{first[1]}: {first[2]}")
    ns: dict[str, object] = {"__name__": "__hel_tests__", "__builtins__": builtins}
    if spec.get("prelude"):
        try:
            exec(_compiled(spec["prelude"], "<prompt>"), ns)
        except Exception:
            pass  # helpers the tests need will show up as a NameError below
    ns[spec["entry_point"]] = proxy
    exec(_compiled(spec["tests"], "<tests>"), ns)


def _read_frame(sock: socket.socket, maxfds: int = 0) -> tuple[bytes, list[int]]:
    """A length-prefixed frame; file descriptors ride on its first bytes (SCM_RIGHTS)."""
    head, fds = b"", []
    while len(head) < 4:
        data, got, _, _ = socket.recv_fds(sock, 4 - len(head), maxfds)
        if not data:
            raise EOFError
        head += data
        fds += got
    (n,) = struct.unpack("<I", head)
    return _read_exact(sock.fileno(), n), fds


def _write_frame(sock: socket.socket, payload: bytes, fds: list[int] | None = None) -> None:
    head = struct.pack("<I", len(payload))
    if fds:
        socket.send_fds(sock, [head], fds)
        sock.sendall(payload)
    else:
        sock.sendall(head + payload)


def serve_tests(sock: socket.socket) -> None:
    """The warm tester: per request (tests JSON, the call pipes as fds), run the tests and answer.

    Answers ``{"passed": bool, "gone": bool, "stderr": str}``; ``gone``: the candidate process ended
    while the tests needed it (the runner knows how it ended). Nothing a candidate sends can do more
    than fail its own tests: replies are parsed as literals, and this process is non-dumpable.
    """
    import traceback

    _non_dumpable()

    def gone() -> None:
        pass

    while True:
        try:
            body, fds = _read_frame(sock, 2)
        except EOFError:
            return
        req_w, resp_r = fds
        spec = json.loads(body)
        proxy = _Proxy(req_w, resp_r, spec["entry_point"], gone)
        passed, err = False, ""
        try:
            run_tests(spec, proxy)
            passed = True
        except LoadFailed as exc:
            err = f"{exc}\n"
        except BaseException as exc:  # noqa: BLE001 - the tests' verdict, whatever it is
            try:
                err = explain(exc, spec, proxy)[-4000:]
            except Exception:
                err = traceback.format_exc()[-4000:]
        for fd in fds:
            os.close(fd)
        reply = {"passed": passed and not proxy.gone, "gone": proxy.gone, "stderr": err}
        _write_frame(sock, json.dumps(reply).encode())


def _die_like(pid: int) -> None:
    """The candidate ended: die the same way it did, so the runner can tell OOM kills and crashes apart."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        sys.stderr.write(f"candidate process killed by signal {sig}\n")
        sys.stderr.flush()
        if sig != signal.SIGKILL:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    raise CandidateFailed(f"candidate process exited with code {os.WEXITSTATUS(status)}")


def main(argv: list[str]) -> int:
    _non_dumpable()
    if argv[1] == "--candidate":  # warm: started by the runner's zygote; pipes on fds 3, 4, code on 5
        _candidate(argv[2], argv[3], None, 3, 4, 5)
        return 1
    candidate_path, tests_path = argv[1], argv[2]
    go_r, go_w = os.pipe()
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    with open(tests_path, encoding="utf-8") as f:
        entry = json.load(f)["entry_point"]  # the entry point's name is no secret; the tests are read later
    try:
        pid = os.fork()
    except OSError as exc:
        token = sys.stdin.readline().strip()
        sys.stderr.write(f"cannot fork the candidate process: {exc}\n")
        sys.stdout.write(f"\nhel-infra {token}\n")
        return INFRA_EXIT
    if pid == 0:
        for fd in (go_w, req_w, resp_r):
            os.close(fd)
        try:
            _candidate(candidate_path, entry, go_r, req_r, resp_w)
        finally:
            os._exit(1)
    for fd in (go_r, req_r, resp_w):
        os.close(fd)
    token = sys.stdin.readline().strip()
    with open(tests_path, encoding="utf-8") as f:
        spec = json.load(f)
    os.unlink(tests_path)  # the candidate, once running, must not find the tests on disk
    os.write(go_w, b"g")
    os.close(go_w)
    proxy = _Proxy(req_w, resp_r, entry, lambda: _die_like(pid))
    try:
        run_tests(spec, proxy)
    except LoadFailed as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except Exception as exc:  # the tests failed: say why as the warm tester does (no token: not a pass)
        sys.stderr.write(explain(exc, spec, proxy)[-4000:])
        sys.stderr.flush()
        return 1
    os.close(req_w)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    sys.stdout.write("\n" + token + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
