"""The test side of the trusted Python driver (see hel_pydriver.py): runs the tests against a
candidate that lives in another process. Stdlib only.

Loaded where the tests run: by ``hel_pydriver.main`` standalone (from the file beside it, before the
candidate runs any code), and by the runner's warm tester (``serve_tests``, from the job's copy). It
takes its framing from ``hel_pydriver``, which its loader registers under that name first.

Only plain values cross: arguments go to the candidate by value (marshal), results come back as
JSON parsed with ``json.loads`` and a hook that builds only plain values (``decode_reply``); the
candidate never sees the tests, the expected values or this process's memory (non-dumpable).
"""

from __future__ import annotations

import builtins
import json
import marshal
import os
import signal
import socket
import struct
import sys
from typing import Any

from hel_pydriver import MAX_FRAMES, _non_dumpable, _read_exact, _recv, _send


class CandidateFailed(AssertionError):
    """The candidate exited, died, or returned something that is not a plain value."""


def _tagged(obj: dict[str, Any]) -> object:
    """``json.loads``'s object hook: one of the candidate side's tagged values (see
    ``hel_pydriver._wire``), built from already-decoded items; anything else is malformed."""
    if len(obj) == 1:
        ((tag, body),) = obj.items()
        if type(body) is list:
            if tag == "t":
                return tuple(body)
            if tag == "s":
                return set(body)  # an unhashable item: TypeError, an unreadable reply
            if tag == "f":
                return frozenset(body)
            if tag == "d" and len(body) == 2 and type(body[0]) is list and type(body[1]) is list:
                return dict(zip(body[0], body[1], strict=True))
            if tag == "c" and len(body) == 2 and all(type(x) in (int, float) for x in body):
                return complex(body[0], body[1])
        elif tag == "b" and type(body) is str:
            return body.encode("latin-1")
    raise ValueError("not a tagged value")


def decode_reply(raw: bytes) -> tuple[object, ...]:
    """A reply from the candidate's process, parsed as untrusted data: JSON, with only plain values
    built (``_tagged``); ints of any size. Raises ValueError (and the like) on anything malformed."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # an int over 4,300 digits is still a plain value
    try:
        msg = json.loads(raw, object_hook=_tagged)
    finally:
        sys.set_int_max_str_digits(limit)
    if type(msg) is not list or not msg or msg[0] not in ("ok", "raise", "load-error", "digest", "opaque"):
        raise ValueError("malformed reply")
    return tuple(msg)


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


class OpaqueAnswer:
    """A candidate's answer that is not a plain value (see ``hel_pydriver._opaque``): its truth value
    is the candidate's; it equals only itself (as a ``re.Match`` does), whatever the candidate's
    ``__eq__`` would have said."""

    __slots__ = ("kind", "truth")

    def __init__(self, kind: str, truth: bool) -> None:
        self.kind, self.truth = kind, truth

    def __bool__(self) -> bool:
        return self.truth

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.kind} object>"


class AnswerDigest(str):
    """A candidate's answer known only by its ``hel_pydriver.digest`` (see ``_Proxy.call_for_digest``)."""


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
        try:
            return decode_reply(raw)
        except (ValueError, TypeError, MemoryError, RecursionError) as exc:
            raise CandidateFailed(f"candidate sent an unreadable reply ({type(exc).__name__})") from None

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._call(args, kwargs, ())

    def call_for_digest(self, *args: object) -> object:
        """Like a call, but the candidate answers with ``AnswerDigest(hel_pydriver.digest(value))``
        where that digest exists (a value of lists, tuples, ints, strs, bytes, None), else with the
        value itself. For expected values too large to hold twice (EvalPlus's judge)."""
        return self._call(args, {}, ("digest",))

    def _call(self, args: tuple[object, ...], kwargs: dict[str, object], mode: tuple[str, ...]) -> object:
        self.last_call, self.last_end = (args, kwargs), None
        try:
            payload = marshal.dumps((args, kwargs, *mode))  # type: ignore[arg-type]
        except ValueError:
            raise TypeError("the test passed a value that cannot be sent to the candidate") from None
        try:
            _send(self.req_w, payload)
        except BrokenPipeError:
            pass  # the candidate is gone: _reply reports how
        msg = self._reply()
        if msg[0] == "ok" and len(msg) == 2:
            value = msg[1]
            self.last_end = ("returned", value)
            return value
        if msg[0] == "digest" and mode and len(msg) == 2 and type(msg[1]) is str and len(msg[1]) == 64:
            self.last_end = ("returned", "a value compared by its sha256")
            return AnswerDigest(msg[1])
        if msg[0] == "opaque" and len(msg) == 3 and type(msg[1]) is str and type(msg[2]) is bool:
            value = OpaqueAnswer(msg[1], msg[2])
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
