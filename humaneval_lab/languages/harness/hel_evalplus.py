"""EvalPlus judging (HumanEval+, MBPP+) inside the trusted Python test process. Stdlib only.

This file is trusted test code: ``humaneval_lab.problemsets.evalplus`` puts it, the problem's data
(as a JSON *string*, parsed here with ``json.loads``, never evaluated) and one call
``evalplus_check(<entry point>, _HEL_EVALPLUS_DATA)`` into a problem's tests. The Python driver
(``sandbox/runner/hel_pydriver.py``) runs those tests in its test process with the entry point bound
to a proxy: every call crosses to the candidate's own process by value and its answer comes back as
a plain value, so nothing here runs in, or can be patched by, the candidate.

What it does, as EvalPlus's evaluator does it (``evalplus/evaluate.py``, ``evalplus/eval``):

1. Expected outputs: run the canonical solution (prompt + canonical_solution) here, once per problem
   per test process, on a deep copy of every input, timing each call. Cached by the sha256 of the
   problem's data, so a warm tester judging many samples of a problem computes them once.
2. Call the candidate on every base input, then on every plus input (MBPP+: after EvalPlus's
   per-task conversions of the JSON inputs to tuples, sets, complex numbers), each within
   max(4 s, 4 x the canonical's time on that input), and compare with the expected output: floats
   within ``atol`` (1e-6 when the file says 0 and the output is a float or floats), exactly
   otherwise; EvalPlus's special oracles (HumanEval/32 and a few MBPP+ entry points) as it has them
   (hel_evalplus_values.py). An expected output of over ``DIGEST_ITEMS`` items is kept only as its
   digest, and the candidate asked for its answer's (``_same_digest``).
3. The first input that fails ends the run with ``EvalPlusAssertionError: base|plus input #i of n:
   why``; the host reads "plus input" in that reason as "passed every base input".
"""

from __future__ import annotations

import copy
import hashlib
import json
import signal
import sys
import time
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time hel_evalplus_values.py is exec'd into this namespace first
    from hel_evalplus_values import OPAQUE, _is_floats, _Run, _short, mbpp_inputs, plain_compare

MIN_LIMIT_S = 4.0  # EvalPlus's floor per input
RUN_GRACE_S = 2.0  # EvalPlus's grace on a run (base or plus) over the sum of its limits
TIME_FACTOR = 4.0  # ... and its multiple of the canonical solution's time on that input
# Values cross between the processes as tagged JSON (hel_pydriver's codec), which EvalPlus's in-process
# call never pays (1M 3-tuples: ~1 s on an idle host, 8 s at load 10). The canonical's time per input
# includes that cost as measured here (_channel_time), and each input's limit a further margin per item.
TRANSFER_S = 10e-6
CACHE_ENTRIES = 8  # problems whose expected outputs a test process keeps (they can be MBs each)
BIG_ITEMS = 1_000_000  # ... but one with more list items than this is kept alone
# An expected output with more items than this is kept only as its digest (hel_pydriver.digest), and
# the candidate asked for its answer's digest: MBPP+ Mbpp/255's 1.7M tuples of 77 strings (~1 GB as
# objects) could not be held twice, let alone cross as text. Only where == is the whole comparison.
DIGEST_ITEMS = 1_000_000


class EvalPlusAssertionError(Exception):
    """One input failed. (The name carries "AssertionError": the runner reads it as a failed test.)"""


class EvalPlusDataError(Exception):
    """The canonical solution itself fails on the problem's data: a broken problem, not the sample's."""


class _InputTimeout(BaseException):
    """Raised by the per-input alarm; a BaseException so no ``except Exception`` in between eats it."""


def _cache() -> dict[str, Any]:
    # A module object kept in sys.modules outlives one sample's test namespace: the warm tester runs
    # many samples of a problem. Only trusted code (this process) can reach it.
    mod = sys.modules.get("_hel_evalplus_cache")
    if mod is None:
        mod = types.ModuleType("_hel_evalplus_cache")
        mod.store = {}  # type: ignore[attr-defined]
        sys.modules["_hel_evalplus_cache"] = mod
    return mod.store  # type: ignore[no-any-return]


class _Digested:
    """An expected output held only as its digest, and a short text of it for a failure's reason."""

    def __init__(self, sha: str, text: str) -> None:
        self.sha, self.text = sha, text


_FLAT = frozenset({type(None), bool, int, float, str, bytes, complex})


def _plain(v: Any, depth: int = 0) -> Any:
    """The canonical's value as the candidate's would arrive: numpy values and subclasses of the
    builtin containers become plain values (the candidate's answers cross the same way)."""
    if depth > 100:
        raise EvalPlusDataError("expected value nested too deeply")
    t = type(v)
    if t in _FLAT or ((t is list or t is tuple) and _FLAT.issuperset(map(type, v))):
        return v  # already plain (the item types checked in C: 1.7M tuples cost no call each)
    if getattr(t, "__module__", "") == "numpy" and hasattr(v, "tolist"):
        return _plain(v.tolist(), depth + 1)
    for scalar in (bool, int, float, str, bytes):
        if isinstance(v, scalar):
            return scalar(v)  # type: ignore[arg-type]
    if isinstance(v, dict):
        return {_plain(k, depth + 1): _plain(x, depth + 1) for k, x in dict.items(v)}
    for box in (list, tuple, set, frozenset):
        if isinstance(v, box):
            # The base type's own iterator: a subclass's __iter__ does not decide what is compared.
            return box(_plain(x, depth + 1) for x in box.__iter__(v))  # type: ignore[arg-type]
    return v


def _size(v: Any, cap: int = 10_000_000) -> int:
    """Items in a (nested) value, counted up to ``cap``: what its transfer costs."""
    count, stack = 0, [v]
    while stack and count < cap:
        x = stack.pop()
        count += 1
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            if _FLAT.issuperset(map(type, x)):
                count += len(x)  # flat: counted, not pushed one by one
            else:
                stack.extend(x)
        elif isinstance(x, (str, bytes)):
            count += len(x) >> 12  # long strings cost little per character
    return count


# ------------------------------------------------------------------------------- running


def _inputs(data: dict[str, Any], which: str) -> list[Any]:
    raw = data[which]
    if not isinstance(raw, list):
        return []  # MBPP+ v0.2.0 Mbpp/793: plus_input is {} (checks nothing, as in EvalPlus)
    if data["dataset"] == "mbpp":
        converted: list[Any] = mbpp_inputs(int(str(data["task_id"]).rsplit("/", 1)[-1]), raw)
        return converted
    return raw


def _canonical(data: dict[str, Any]) -> Any:
    ns: dict[str, Any] = {"__name__": "__hel_canonical__"}
    exec(compile(data["canonical"], "<canonical>", "exec", dont_inherit=True), ns)
    return ns[data["entry_point"]]


def _run_canonical(fn: Any, inp: list[Any], where: str) -> tuple[Any, float]:
    """The canonical's output on a copy of ``inp`` as a plain value, and the seconds the call took."""
    args = copy.deepcopy(inp)
    start = time.perf_counter()
    try:
        value = fn(*args)
    except Exception as exc:
        raise EvalPlusDataError(f"the canonical solution raised {type(exc).__name__} on {where}") from None
    return _plain(value), time.perf_counter() - start


def _release() -> None:
    """Give a dropped huge value's memory back to the system: the candidate, in the same container,
    is about to build its own copy of it."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except Exception:
        pass  # not glibc: the memory stays with this process


def expected_outputs(data: dict[str, Any], key: str) -> dict[str, tuple[list[Any], list[float]]]:
    """{"base"|"plus": (outputs, seconds per call)} of the canonical solution, cached by ``key``."""
    store = _cache()
    hit = store.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    fn = _canonical(data)
    may_digest = plain_compare(data) and sys.modules.get("hel_pydriver") is not None
    result: dict[str, tuple[list[Any], list[float]]] = {}
    for which in ("base_input", "plus_input"):
        outs, times = [], []
        for i, inp in enumerate(_inputs(data, which)):
            plain, took = _run_canonical(fn, inp, f"{which[:4]} input #{i}")
            # (a float output, or a flat list of floats, widens atol: compared by closeness, never digested)
            if may_digest and not _is_floats(plain) and _size(plain, DIGEST_ITEMS + 1) > DIGEST_ITEMS:
                start = time.perf_counter()
                sha = sys.modules["hel_pydriver"].digest(plain)
                if sha is not None:  # the candidate digests its answer too: count that, not a crossing
                    outs.append(_Digested(sha, _short(plain)))
                    times.append(took + 2 * (time.perf_counter() - start))
                    del plain
                    _release()
                    continue
            times.append(took + _channel_time(inp, plain))
            outs.append(plain)
        result[which[:4]] = (outs, times)
    items = sum(_size(v) for outs, _ in result.values() for v in outs)
    if items > BIG_ITEMS:
        store.clear()  # a huge problem (HumanEval+ 130: 10M list items) is the only one kept
    while len(store) >= CACHE_ENTRIES:
        store.pop(next(iter(store)))
    store[key] = result
    return result


def _channel_time(args: Any, answer: Any) -> float:
    """What moving this input and answer between the processes costs here, measured as the channel
    does it: the arguments through marshal, the answer through the driver's codec (``hel_pydriver``'s
    ``_wire`` and ``encode_reply``, ``hel_pytests.decode_reply``; both loaded in this process), ints
    of any size. EvalPlus calls in-process and never pays this; counting it in the canonical's time
    keeps a right answer from being late for being large, on this host, under its load. Values that
    cannot be measured so cost nothing extra."""
    import marshal

    driver, tests = sys.modules.get("hel_pydriver"), sys.modules.get("hel_pytests")
    start = time.perf_counter()
    try:
        marshal.loads(marshal.dumps(args))
        if driver is not None and tests is not None:
            tests.decode_reply(driver.encode_reply(["ok", driver._wire(answer)]))
    except Exception:
        return 0.0
    return time.perf_counter() - start


def _on_alarm(signum: int, frame: Any) -> None:
    raise _InputTimeout


def _call(fn: Any, args: list[Any], limit: float) -> tuple[Any, float]:
    """``fn(*args)`` within ``limit`` seconds: a SIGALRM here (this process's main thread) interrupts
    the wait for the candidate's answer; where no alarm can be set, the time is checked after."""
    old: Any = None
    try:
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
    except (ValueError, OSError):
        old = None
    start = time.perf_counter()
    try:
        value = fn(*args)
    finally:
        if old is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return value, time.perf_counter() - start


def evalplus_check(candidate: Any, data_json: str) -> None:
    """Judge ``candidate`` on the problem in ``data_json``; returns only if every input passed."""
    key = hashlib.sha256(data_json.encode("utf-8", "surrogatepass")).hexdigest()
    data = json.loads(data_json)
    expected = expected_outputs(data, key)
    for which in ("base", "plus"):
        inputs = _inputs(data, f"{which}_input")
        outs, times = expected[which]
        run = _Run(data)
        transfer = [TRANSFER_S * (_size(inp) + _size(out)) for inp, out in zip(inputs, outs, strict=True)]
        # (times already hold each answer's measured channel cost; transfer adds a margin per item)
        limits = [max(MIN_LIMIT_S, TIME_FACTOR * t) for t in times]
        # EvalPlus also kills a run after min(60 s, the sum of its limits) + 2 s. That 60 s is absolute
        # time, so on a slower or busier host it fails the canonical solution itself (MBPP+ 123 did on
        # a loaded test host); here a run's budget is the sum of its limits, which scale with the
        # canonical's time on this host, and the job's backstop bounds the whole.
        budget_left = sum(limits) + RUN_GRACE_S + sum(transfer)
        for i, inp in enumerate(inputs):
            where = f"{which} input #{i} of {len(inputs)}"
            limit = min(limits[i] + transfer[i], budget_left)
            if limit <= 0:
                raise EvalPlusAssertionError(f"{where}: the {which} run's time budget is spent")
            digested = isinstance(outs[i], _Digested)
            fn = getattr(candidate, "call_for_digest", candidate) if digested else candidate
            try:
                out, took = _call(fn, inp, limit)  # the args cross by value: no copy needed
            except _InputTimeout:
                raise EvalPlusAssertionError(f"{where}: no answer within {limit:.1f}s") from None
            except Exception as exc:
                names = [c.__name__ for c in type(exc).__mro__]
                if "CandidateGone" in names:
                    raise  # the candidate's process ended: the runner says how
                if (
                    "CandidateFailed" in names
                    and str(exc).startswith("candidate returned a ")
                    and run.opaque_ok()
                ):
                    # It returned an object that cannot cross (e.g. a re.Match); these oracles only ask
                    # whether it is None, and it is not. (Raising that TypeError itself gains nothing a
                    # candidate returning object() would not have.)
                    out, took = OPAQUE, 0.0
                else:
                    raise EvalPlusAssertionError(f"{where}: raised {type(exc).__name__}: {exc}") from None
            if took > limit:
                raise EvalPlusAssertionError(f"{where}: answered after {took:.1f}s (limit {limit:.1f}s)")
            budget_left -= took
            try:
                ok = (
                    _same_digest(data, f"{which}_input", i, out, outs[i])
                    if digested
                    else run.same(inp, out, outs[i])
                )
            except Exception as exc:  # e.g. set() of an unhashable answer, poly() of a string
                raise EvalPlusAssertionError(f"{where}: cannot compare ({type(exc).__name__})") from None
            if not ok:
                exp = outs[i].text if digested else _short(outs[i])
                got = (
                    "a different value (compared by sha256)"
                    if type(out).__name__ == "AnswerDigest"
                    else _short(out)
                )
                raise EvalPlusAssertionError(f"{where}: expected {exp}, got {got}")


def _same_digest(data: dict[str, Any], which: str, i: int, out: Any, exp: _Digested) -> bool:
    """A huge expected output's comparison: by digest when the candidate's answer has one (then equal
    digests are equal values); else (a float or bool inside, say, where == may still hold) with ==
    against the canonical's output computed again here, as the only way to be exact."""
    if type(out).__name__ == "AnswerDigest":
        return str(out) == exp.sha
    sha = sys.modules["hel_pydriver"].digest(out)
    if sha is not None:
        return bool(sha == exp.sha)
    again, _ = _run_canonical(_canonical(data), _inputs(data, which)[i], f"{which[:4]} input #{i}")
    return bool(out == again)
