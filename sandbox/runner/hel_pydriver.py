"""Trusted test driver for Python: the tests and the candidate run in two processes. Stdlib only.

Two ways to run it:

- standalone: ``python3 -I hel_pydriver.py CANDIDATE_FILE TESTS_FILE`` forks the candidate, runs the
  tests, prints the runner's token (read from stdin) only after they returned;
- warm (inside the sandbox): the runner keeps one long-lived trusted *tester* per worker
  (``hel_pytests.serve_tests``) and starts each candidate alone, from its clean zygote, as
  ``hel_pydriver.py --candidate CANDIDATE_NAME ENTRY_POINT`` with the call pipes on fds 3 and 4 and
  its code on fd 5. Nothing is written to the work dir, the tests go only to the tester, and the
  verdict comes back over a private socket, so no token is needed; each sample costs one fresh
  process instead of two.

The tests' side (the proxy, running the tests, explaining a failure, the warm tester's
``serve_tests``) is ``hel_pytests.py``, a file of its own beside this one: the candidate's process
never needs it (the zygote runs only this module as its harness), the tester never needs the
candidate's side but this module's framing.

TESTS_FILE is JSON: {"entry_point", "prelude" (trusted code whose helpers the tests use, e.g. the
problem's prompt), "tests" (top-level test code that calls the entry point)}.

Standalone, order matters, and is the whole point:

1. fork the candidate process first, before anything secret exists in this one; it points its
   stdin at /dev/null and waits for a go;
2. read the runner's token from stdin, read the tests and delete their file from the work dir;
3. tell the candidate to load its code (prompt + completion) and then to serve calls;
4. run the tests here, with the entry point bound to a proxy: arguments go over a pipe by value
   (marshal, written by trusted code), results come back as JSON (tagged for what JSON lacks, see
   ``_wire``) parsed with ``json.loads``, so only plain values (numbers, strings, bytes, None, and
   lists, tuples, dicts and sets of them) can cross. The candidate never sees the tests, the expected values,
   the token, or this process's memory (non-dumpable: no ptrace, no /proc/<pid>/mem);
5. print the token on a line of its own only after the tests returned.

A candidate that exits, kills itself, returns an object that is not a plain value (say one whose
``__eq__`` is always true), or patches anything, only changes what crosses the pipe: the test
fails. Exceptions the candidate raises are re-raised here by builtin type name.
"""

from __future__ import annotations

import builtins
import json
import marshal
import os
import signal
import struct
import sys
import types
from typing import Any

INFRA_EXIT = 75
MAX_MESSAGE = 64 << 20


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


_SCALARS = frozenset({type(None), bool, int, float, str})


def _wire(v: Any, depth: int = 0) -> Any:
    """A plain value as JSON-ready data: None, bools, ints, floats (NaN and infinities as JSON's
    NaN/Infinity) and strings as themselves, lists as arrays; everything JSON lacks as a one-key
    object: {"t": [items]} tuple, {"s": [...]} set, {"f": [...]} frozenset, {"d": [[keys], [values]]}
    dict, {"b": "latin-1 text"} bytes, {"c": [real, imag]} complex. Numpy values become Python ones.
    This runs in the candidate's process; the tests' side decodes it as untrusted data (json.loads
    plus a hook that builds only these types), never with anything that can run code."""
    if depth > 100:
        raise TypeError("value nested too deeply")
    t = type(v)
    if t in _SCALARS:
        return v
    d = depth + 1
    if t is list or t is tuple:
        # All scalars (checked in C): json.dumps writes the list or tuple itself, as an array.
        # Otherwise a scalar item still costs no call.
        if _SCALARS.issuperset(map(type, v)):
            items = v
        else:
            items = [x if type(x) in _SCALARS else _wire(x, d) for x in v]
        return items if t is list else {"t": items}
    if t is dict:
        return {"d": [[_wire(k, d) for k in v], [_wire(x, d) for x in v.values()]]}
    if t is set or t is frozenset:
        return {"s" if t is set else "f": [_wire(x, d) for x in v]}
    if t is bytes:
        return {"b": v.decode("latin-1")}
    if t is complex:
        return {"c": [v.real, v.imag]}
    if getattr(t, "__module__", "") == "numpy" and hasattr(v, "tolist"):
        return _wire(v.tolist(), d)
    base: Any
    for base in (bool, int, float, str, bytes, complex):  # subclasses (IntEnum, ...) by value
        if isinstance(v, base):
            return _wire(base(v), d)
    # Containers' subclasses (Counter, OrderedDict, defaultdict, namedtuple, ...) cross by value, as
    # == with a plain value compares them. Read through the base type's own methods: an overridden
    # __iter__ or items() cannot change what crosses, and no method of theirs runs here.
    if isinstance(v, dict):
        return _wire(dict(dict.items(v)), d)
    if isinstance(v, (list, tuple, set, frozenset)):
        kind: Any = next(b for b in (list, tuple, set, frozenset) if isinstance(v, b))
        return _wire(kind(kind.__iter__(v)), d)
    raise TypeError(f"returned a {t.__module__}.{t.__qualname__}, which is not a plain value")


# Leaves whose repr is equal exactly when the values are ==: no bool (True == 1), complex, or subclass.
# A value made of these and of lists and tuples has one text per == class.
_EXACT = frozenset({type(None), int, str, bytes})
_ZERO = (0.0,)


def digest(v: Any) -> str | None:
    """sha256 of a canonical text of ``v`` when it is made only of lists, tuples, ``_EXACT`` leaves
    and floats (not NaN; -0.0 as 0.0); None otherwise. Equal digests mean ``==`` values (short of a
    sha256 collision), except that an integral float and the equal int (1.0, 1) have different texts:
    such answers differ here where ``==`` holds. Lets a huge answer (MBPP+ Mbpp/255: 1.7M tuples of 77
    strings or floats, ~1 GB) be compared without crossing: both sides digest with this function."""
    import hashlib

    h = hashlib.sha256()
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return h.hexdigest() if _feed(h.update, v, 0) else None
    finally:
        sys.set_int_max_str_digits(limit)


def _feed(update: Any, v: Any, depth: int) -> bool:
    import itertools
    import math
    import operator

    t = type(v)
    if t in _EXACT:
        update(repr(v).encode("utf-8", "surrogatepass"))
        return True
    if t is float:  # its bits, -0.0 + 0.0 being 0.0: one text for the two zeros, which are ==
        update(b"f" + struct.pack("<d", v + 0.0))
        return bool(v == v)  # NaN != NaN: no text can stand for it
    if (t is not list and t is not tuple) or depth > 100:
        return False
    kinds = set(map(type, v))  # item types, checked in C: flat containers cost one repr, not a call each
    if kinds <= _EXACT:
        update(repr(v).encode("utf-8", "surrogatepass"))
        return True
    if kinds == {float}:  # their bits, packed in C (a repr each costs ~1 us), -0.0 as 0.0 as above
        floats = tuple(map(operator.add, v, itertools.cycle(_ZERO)))
        update(b"%c%d:" % (91 if t is list else 40, len(floats)) + struct.pack(f"<{len(floats)}d", *floats))
        return not any(map(math.isnan, floats))
    update(b"[" if t is list else b"(")  # a nested container: bracketed, so the text stays unambiguous
    for x in v:
        if not _feed(update, x, depth + 1):
            return False
        update(b",")
    update(b"]" if t is list else b")")
    return True


def encode_reply(msg: list[Any]) -> bytes:
    """One reply (["ok", value], ["raise", name, message], ["load-error", name, message]) as JSON."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # an int of any size crosses; the candidate's own limit stays
    try:
        return json.dumps(msg, separators=(",", ":"), check_circular=False).encode("ascii")
    finally:
        sys.set_int_max_str_digits(limit)


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
        _send(resp_w, encode_reply(["load-error", type(exc).__name__, str(exc)[:2000]]))
        os._exit(0)
    _send(resp_w, b'["ok"]')
    while True:
        try:
            args, kwargs, *mode = marshal.loads(_recv(req_r))
        except EOFError:
            os._exit(0)
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - report anything, including SystemExit
            _send(resp_w, _raised(exc, path, source))
            continue
        try:
            # mode ["digest"]: the tests hold a huge expected value only as its digest; a value digest()
            # cannot take crosses whole, as always, and is compared whole.
            sha = digest(value) if mode == ["digest"] else None
            reply = encode_reply(["digest", sha] if sha else ["ok", _wire(value)])
        except TypeError as exc:  # _wire: not a plain value
            reply = (
                _opaque(value, str(exc)) if str(exc).startswith("returned a ") else _raised(exc, path, source)
            )
        except BaseException as exc:  # noqa: BLE001 - e.g. an overridden __class__ misleading _wire
            reply = _raised(exc, path, source)
        _send(resp_w, reply)


def _raised(exc: BaseException, path: str, source: str) -> bytes:
    _say(_own_traceback(exc, path, source))  # where in its code it raised, for the report
    return encode_reply(["raise", type(exc).__name__, str(exc)[:2000]])


def _opaque(value: Any, why: str) -> bytes:
    """An answer that is not a plain value (sanitized MBPP's ``check_str`` returns a ``re.Match``):
    only its type's name and its truth value cross, so ``assert f(x)`` and ``assert not f(x)`` judge
    it as Python would, and the tests side's stand-in equals nothing but itself (an ``__eq__`` that
    is always true gains nothing). Its ``__bool__`` runs here, in the candidate's own process."""
    try:
        truth = bool(value)
    except BaseException:  # noqa: BLE001 - then it is only "not a plain value"
        return encode_reply(["raise", "TypeError", why[:2000]])
    kind = why.removeprefix("returned a ").split(", which", 1)[0]
    return encode_reply(["opaque", kind[:200], truth])


TESTS_SIDE = "hel_pytests.py"  # beside this file: the tests' side of the driver


def _tests_side() -> Any:
    """hel_pytests, loaded from the file beside this one; it imports its framing from this module,
    which is registered as ``hel_pydriver`` first (run as a script, this module is ``__main__``)."""
    me = types.ModuleType("hel_pydriver")
    me.__dict__.update({k: v for k, v in globals().items() if not k.startswith("__")})
    sys.modules["hel_pydriver"] = me
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), TESTS_SIDE)
    with open(path, encoding="utf-8") as f:
        source = f.read()
    mod = types.ModuleType("hel_pytests")
    mod.__file__ = path
    sys.modules["hel_pytests"] = mod
    exec(compile(source, path, "exec", dont_inherit=True), mod.__dict__)
    return mod


def main(argv: list[str]) -> int:
    _non_dumpable()
    if argv[1] == "--candidate":  # warm: started by the runner's zygote; pipes on fds 3, 4, code on 5
        _candidate(argv[2], argv[3], None, 3, 4, 5)
        return 1
    candidate_path, tests_path = argv[1], argv[2]
    tests = _tests_side()  # before the candidate exists: nothing it does can change what runs here
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
    proxy = tests._Proxy(req_w, resp_r, entry, lambda: tests._die_like(pid))
    try:
        tests.run_tests(spec, proxy)
    except tests.LoadFailed as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except Exception as exc:  # the tests failed: say why as the warm tester does (no token: not a pass)
        sys.stderr.write(tests.explain(exc, spec, proxy)[-4000:])
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
