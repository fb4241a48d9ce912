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
   otherwise; EvalPlus's special oracles (HumanEval/32 and a few MBPP+ entry points) as it has them.
3. The first input that fails ends the run with ``EvalPlusAssertionError: base|plus input #i of n:
   why``; the host reads "plus input" in that reason as "passed every base input".
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import signal
import sys
import time
import types
from typing import Any

MIN_LIMIT_S = 4.0  # EvalPlus's floor per input
RUN_GRACE_S = 2.0  # EvalPlus's grace on a run (base or plus) over the sum of its limits
TIME_FACTOR = 4.0  # ... and its multiple of the canonical solution's time on that input
FLOAT_ATOL = 1e-6  # EvalPlus's atol when the file's is 0 and the expected value is a float
# Values cross between the processes as tagged JSON (hel_pydriver's codec), which EvalPlus's in-process
# call never pays (1M 3-tuples: ~1 s on an idle host, 8 s at load 10). The canonical's time per input
# includes that cost as measured here (_channel_time), and each input's limit a further margin per item.
TRANSFER_S = 10e-6
CACHE_ENTRIES = 8  # problems whose expected outputs a test process keeps (they can be MBs each)
BIG_ITEMS = 1_000_000  # ... but one with more list items than this is kept alone


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


# ------------------------------------------------------------------------------- MBPP+ input types


def _tuples_inside(arg: Any) -> Any:
    return [tuple(x) if isinstance(x, list) else x for x in arg]


def _deep_tuple(v: Any) -> Any:
    return tuple(_deep_tuple(x) for x in v) if isinstance(v, list) else v


_ALL_TUPLE = {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630,
              726, 740, 744, 809}  # fmt: skip
_INNER_TUPLES = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
_FIRST_INNER_TUPLES = {75, 413, 444, 753}
_INNER_THEN_ALL = {259, 401, 445, 278}
_FIRST_TUPLE = {250, 307, 405, 446, 617, 720, 763, 808}
_SECOND_TUPLE = {106, 750}
_DEEP_TUPLE = {580, 615, 791}


def mbpp_inputs(task_number: int, inputs: list[Any]) -> list[Any]:
    """EvalPlus's ``mbpp_deserialize_inputs``: JSON has no tuples, sets or complex numbers, so MBPP+
    inputs of tasks whose functions expect them are converted per task (by MBPP task number)."""
    n = task_number
    if n in _ALL_TUPLE:
        return [[tuple(a) for a in inp] for inp in inputs]
    if n in _INNER_TUPLES:
        return [[_tuples_inside(a) for a in inp] for inp in inputs]
    if n in _FIRST_INNER_TUPLES:
        return [[_tuples_inside(inp[0]), *inp[1:]] for inp in inputs]
    if n in _INNER_THEN_ALL:
        return [[tuple(_tuples_inside(a)) for a in inp] for inp in inputs]
    if n in _FIRST_TUPLE:
        return [[tuple(inp[0]), *inp[1:]] for inp in inputs]
    if n in _SECOND_TUPLE:
        return [[inp[0], tuple(inp[1]), *inp[2:]] for inp in inputs]
    if n == 115:  # an empty list becomes {} (an empty dict), as EvalPlus has it
        return [[[set(x) if x else {} for x in inp[0]], *inp[1:]] for inp in inputs]
    if n == 124:
        return [[float(inp[0]), complex(inp[1])] for inp in inputs]
    if n == 252:
        return [[complex(inp[0])] for inp in inputs]
    if n == 722:
        return [[{k: tuple(v) for k, v in inp[0].items()}, *inp[1:]] for inp in inputs]
    if n in _DEEP_TUPLE:
        return [list(_deep_tuple(inp)) for inp in inputs]
    return inputs


# ------------------------------------------------------------------------------- comparing


def _plain(v: Any, depth: int = 0) -> Any:
    """The canonical's value as the candidate's would arrive: numpy values and subclasses of the
    builtin containers become plain values (the candidate's answers cross the same way)."""
    if depth > 100:
        raise EvalPlusDataError("expected value nested too deeply")
    t = type(v)
    if v is None or t in (bool, int, float, str, bytes, complex):
        return v
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
            stack.extend(x)
        elif isinstance(x, (str, bytes)):
            count += len(x) >> 12  # long strings cost little per character
    return count


def _is_floats(x: Any) -> bool:
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and bool(x) and all(isinstance(i, float) for i in x)


def _close(a: Any, b: Any, atol: float, rtol: float = 1e-7) -> bool:
    """numpy.allclose(a, b, rtol, atol) for numbers and (nested) sequences of equal shape."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))) or len(a) != len(b):
            return False
        return all(_close(x, y, atol, rtol) for x, y in zip(a, b, strict=True))
    if not all(isinstance(v, (int, float, complex)) for v in (a, b)):
        return False
    if isinstance(a, complex) or isinstance(b, complex):
        if any(math.isinf(z.real) or math.isinf(z.imag) for z in (complex(a), complex(b))):
            return complex(a) == complex(b)
    elif math.isinf(a) or math.isinf(b):
        return bool(a == b)
    return bool(abs(a - b) <= atol + rtol * abs(b))


def _poly(xs: list[Any], x: float) -> float:
    # A plain left-to-right sum, as EvalPlus and the prompt's poly() compute it (not math.fsum): the
    # canonical solution converges to a point where *this* sum is within atol.
    return float(sum([c * math.pow(x, i) for i, c in enumerate(xs)]))


def _digit_distance(n1: int, n2: int) -> int:
    a, b = str(n1), str(n2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width), strict=True))


_SET_ORACLE = {"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
               "larg_nnum", "find_dissimilar", "Diff"}  # fmt: skip
_NONE_ORACLE = {"check_str", "text_match_three", "text_starta_endb"}


class _Opaque:
    """Stands for a candidate's answer that could not cross as a plain value (it is not None)."""

    def __repr__(self) -> str:
        return "<an object that is not a plain value>"


OPAQUE = _Opaque()


class _Run:
    """One run over a list of inputs; ``atol`` is per run, as in EvalPlus (once widened, it stays)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.dataset, self.entry, self.atol = data["dataset"], data["entry_point"], float(data["atol"])

    def opaque_ok(self) -> bool:
        """Whether an answer that is only known to be some object, not None, can be judged."""
        return self.dataset == "mbpp" and self.entry in _NONE_ORACLE

    def same(self, inp: list[Any], out: Any, exp: Any) -> bool:
        entry = self.entry
        if self.dataset == "humaneval" and entry == "find_zero":
            return bool(abs(_poly(inp[0], out)) <= self.atol)
        if self.dataset == "mbpp":
            if entry in _SET_ORACLE:
                return bool(set(out) == set(exp))
            if entry in _NONE_ORACLE:
                want = exp is not None
                return out == want if isinstance(out, bool) else (out is not None) == want
            if entry == "surface_Area" and isinstance(out, (int, float)):
                b, h = inp
                if abs(out - round(b**2 + 2 * b * math.sqrt((b / 2) ** 2 + h**2))) <= self.atol:
                    return True
            if entry == "digit_distance_nums" and out == _digit_distance(*inp):
                return True
        exact = bool(out == exp)
        if self.atol == 0 and _is_floats(exp):
            self.atol = FLOAT_ATOL
        if not exact and self.atol != 0:
            if type(out) is not type(exp):
                return False
            if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                return False
            return _close(out, exp, self.atol)
        return exact


# ------------------------------------------------------------------------------- running


def _inputs(data: dict[str, Any], which: str) -> list[Any]:
    raw = data[which]
    if not isinstance(raw, list):
        return []  # MBPP+ v0.2.0 Mbpp/793: plus_input is {} (checks nothing, as in EvalPlus)
    if data["dataset"] == "mbpp":
        return mbpp_inputs(int(str(data["task_id"]).rsplit("/", 1)[-1]), raw)
    return raw


def expected_outputs(data: dict[str, Any], key: str) -> dict[str, tuple[list[Any], list[float]]]:
    """{"base"|"plus": (outputs, seconds per call)} of the canonical solution, cached by ``key``."""
    store = _cache()
    hit = store.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    ns: dict[str, Any] = {"__name__": "__hel_canonical__"}
    exec(compile(data["canonical"], "<canonical>", "exec", dont_inherit=True), ns)
    fn = ns[data["entry_point"]]
    result: dict[str, tuple[list[Any], list[float]]] = {}
    for which in ("base_input", "plus_input"):
        outs, times = [], []
        for i, inp in enumerate(_inputs(data, which)):
            args = copy.deepcopy(inp)
            start = time.perf_counter()
            try:
                value = fn(*args)
            except Exception as exc:
                raise EvalPlusDataError(
                    f"the canonical solution raised {type(exc).__name__} on {which[:4]} input #{i}"
                ) from None
            took = time.perf_counter() - start
            plain = _plain(value)
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


def _short(v: Any, limit: int = 60) -> str:
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlong = limit, limit, limit
    try:
        text = r.repr(v)
    except Exception:
        text = f"<a {type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
            try:
                out, took = _call(candidate, inp, limit)  # the args cross by value: no copy needed
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
                ok = run.same(inp, out, outs[i])
            except Exception as exc:  # e.g. set() of an unhashable answer, poly() of a string
                raise EvalPlusAssertionError(f"{where}: cannot compare ({type(exc).__name__})") from None
            if not ok:
                raise EvalPlusAssertionError(f"{where}: expected {_short(outs[i])}, got {_short(out)}")
