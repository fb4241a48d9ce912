"""EvalPlus's values, for the judge (hel_evalplus.py): MBPP+'s per-task input conversions and how an
output is compared with the expected one (atol, EvalPlus's special oracles). Stdlib only; trusted.

Exec'd into the judge's namespace just before hel_evalplus.py (see problemsets/evalplus.py), as its
first half: the two files share one namespace in the sandbox's test process.
"""

from __future__ import annotations

import math
from typing import Any

FLOAT_ATOL = 1e-6  # EvalPlus's atol when the file's is 0 and the expected value is a float

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


def plain_compare(data: dict[str, Any]) -> bool:
    """Whether ``_Run.same`` is plain ``==`` for this problem: no oracle of its own, atol 0 (a float
    output widens it; a digest is only taken of values without floats)."""
    entry, dataset = data["entry_point"], data["dataset"]
    if dataset == "humaneval":
        return entry != "find_zero" and float(data["atol"]) == 0
    special = _SET_ORACLE | _NONE_ORACLE | {"surface_Area", "digit_distance_nums"}
    return entry not in special and float(data["atol"]) == 0


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


def _short(v: Any, limit: int = 60) -> str:
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlong = limit, limit, limit
    try:
        text = r.repr(v)
    except Exception:
        text = f"<a {type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
