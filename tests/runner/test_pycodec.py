"""The Python driver's answer codec (hel_pydriver ``_wire``/``encode_reply``, hel_pytests
``decode_reply``): every plain value comes back equal and of the same type; anything a candidate
could forge that is not one of its tagged values is refused. No Docker (the real sandbox judging
these values is tests/sandbox/test_python_codec_docker.py)."""

from __future__ import annotations

import collections
import math
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "sandbox" / "runner"


def _load(name: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__file__ = str(RUNNER / f"{name}.py")
    sys.modules[name] = mod  # hel_pytests imports its framing from hel_pydriver, as in the tester
    exec(compile((RUNNER / f"{name}.py").read_text(), mod.__file__, "exec", dont_inherit=True), mod.__dict__)
    return mod


@pytest.fixture(scope="module")
def codec() -> Iterator[tuple[Any, Any]]:
    saved = {n: sys.modules.get(n) for n in ("hel_pydriver", "hel_pytests")}
    try:
        yield _load("hel_pydriver"), _load("hel_pytests")
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def _roundtrip(codec: tuple[Any, Any], value: object) -> object:
    driver, tests = codec
    msg = tests.decode_reply(driver.encode_reply(["ok", driver._wire(value)]))
    assert msg[0] == "ok" and len(msg) == 2
    return msg[1]


def _shape(v: object) -> object:
    """A value's types all the way down, so (1, 2) and [1, 2] or 1 and 1.0 differ."""
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [_shape(x) for x in v])
    if isinstance(v, (set, frozenset)):
        return (type(v).__name__, sorted(repr(_shape(x)) for x in v))
    if isinstance(v, dict):
        return ("dict", [(_shape(k), _shape(x)) for k, x in v.items()])
    return (type(v).__name__, v)


SAME = [
    None, True, False, 0, -7, 10**5000, 1.5, -0.0, float("inf"), float("-inf"), "", "a\ud800é\x00", b"",
    b"\x00\xff", 1 + 2j, complex(float("inf"), -1), [], (), {}, set(), frozenset(), [1, (2, 3), {4, 5}],
    (1,), ((1, 2), [3, (4,)]), {(1, 2): [3], "x": {"y": b"z"}, 3: None}, {frozenset({1, 2}), 3},
    [[(i, i + 1, "a") for i in range(100)]], {1: {2: {3: (4, {5})}}},
]  # fmt: skip


@pytest.mark.parametrize("value", SAME, ids=[f"{i}-{type(v).__name__}" for i, v in enumerate(SAME)])
def test_plain_values_come_back_equal_and_of_the_same_types(codec: tuple[Any, Any], value: object) -> None:
    got = _roundtrip(codec, value)
    assert got == value and _shape(got) == _shape(value)


def test_nan_subclasses_and_container_subclasses_cross_by_value(codec: tuple[Any, Any]) -> None:
    assert math.isnan(_roundtrip(codec, float("nan")))  # type: ignore[arg-type]
    counter = _roundtrip(codec, collections.Counter("aab"))
    assert type(counter) is dict and counter == {"a": 2, "b": 1}
    point = _roundtrip(codec, collections.namedtuple("P", "x y")(1, 2))
    assert type(point) is tuple and point == (1, 2)
    assert type(_roundtrip(codec, collections.OrderedDict(a=1))) is dict


def test_values_that_are_not_plain_are_refused_on_the_candidates_side(codec: tuple[Any, Any]) -> None:
    driver, _ = codec

    class AlwaysEqual:
        def __eq__(self, other: object) -> bool:
            return True

    with pytest.raises(TypeError, match="returned a .*AlwaysEqual, which is not a plain value"):
        driver._wire(AlwaysEqual())
    deep: list[object] = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        driver._wire(deep)


FORGED = [
    b"",  # not JSON
    b"('ok', 1)",  # the old literal format: not accepted any more
    b'["ok", __import__("os")]',
    b'{"t": [1]}',  # not a reply list
    b'["okay", 1]',
    b"[]",
    b'["ok", {}]',  # an untagged object
    b'["ok", {"x": 1}]',  # an unknown tag
    b'["ok", {"t": [1], "s": [2]}]',  # two tags
    b'["ok", {"t": 1}]',  # a tag over the wrong JSON type
    b'["ok", {"s": [[1]]}]',  # an unhashable set item
    b'["ok", {"d": [[[1]], [2]]}]',  # an unhashable key
    b'["ok", {"d": [[1], []]}]',  # keys and values of different lengths
    b'["ok", {"d": ["ab", "cd"]}]',  # not two lists
    b'["ok", {"b": "\\u0100"}]',  # bytes over 255
    b'["ok", {"c": ["a", 1]}]',  # complex from a string
    b'["ok", {"c": [1, 2, 3]}]',
    b"[" * 100_000,  # nesting deeper than the parser's recursion
    b'["ok", 1] trailing',
]


@pytest.mark.parametrize("raw", FORGED, ids=[repr(r)[:30] for r in FORGED])
def test_forged_replies_are_refused_not_evaluated(codec: tuple[Any, Any], raw: bytes) -> None:
    _, tests = codec
    with pytest.raises((ValueError, TypeError, RecursionError)):
        tests.decode_reply(raw)


def test_ints_of_any_size_cross_without_changing_the_processes_digit_limit(codec: tuple[Any, Any]) -> None:
    limit = sys.get_int_max_str_digits()
    assert _roundtrip(codec, -(10**20000) + 3) == -(10**20000) + 3
    assert sys.get_int_max_str_digits() == limit


def test_an_answer_that_is_not_a_plain_value_crosses_as_its_truth_and_equals_nothing(
    codec: tuple[Any, Any],
) -> None:
    import re

    driver, tests = codec

    class AlwaysEqual:
        def __eq__(self, other: object) -> bool:
            return True

    match = tests.decode_reply(
        driver._opaque(re.match("a", "a"), "returned a re.Match, which is not a plain value")
    )
    assert match[0] == "opaque"
    answer = tests.OpaqueAnswer(*match[1:])
    assert answer and answer is not None and answer != answer.kind and repr(answer) == "<re.Match object>"
    sly = tests.decode_reply(
        driver._opaque(AlwaysEqual(), "returned a x.AlwaysEqual, which is not a plain value")
    )
    assert tests.OpaqueAnswer(*sly[1:]) != 5 and sly[1:] == ("x.AlwaysEqual", True)

    class NoTruth:
        def __bool__(self) -> bool:
            raise ValueError

    assert tests.decode_reply(driver._opaque(NoTruth(), "returned a x.NoTruth, which is not a plain value"))[
        :2
    ] == (
        "raise",
        "TypeError",
    )


def test_digests_are_equal_exactly_for_equal_values_of_the_kinds_they_take(codec: tuple[Any, Any]) -> None:
    driver, _ = codec
    d = driver.digest
    same = [
        ([(1, "a"), ("b", None)], [(1, "a"), ("b", None)]),
        ([(1.5, 2.0)] * 3, [(1.5, 2.0)] * 3),
        ([(-0.0, 1.5)], [(0.0, 1.5)]),  # -0.0 == 0.0
        ([[10**5000, b"x"]], [[10**5000, b"x"]]),
        ([float("inf"), "x"], [float("inf"), "x"]),
    ]
    for a, b in same:
        assert d(a) is not None and d(a) == d(b), a
    differ = [
        ([(1, "a")], [[1, "a"]]),  # tuple vs list
        ([(1.5,)], [(1.5, 1.5)]),
        ([(1.5, "a")], [("1.5", "a")]),
        ([[1.5]], [(1.5,)]),
        (["ab", "c"], ["a", "bc"]),
        ([float("inf")], [float("-inf")]),
        ([((1,), 2)], [((1, 2),)]),
    ]
    for a, b in differ:
        assert d(a) != d(b), (a, b)
    # No digest where a text cannot be canonical: NaN (never == itself), bools (True == 1), sets,
    # dicts, complex; a caller compares those whole.
    for v in ([float("nan")], [(1.0, float("nan"))], [True], [{1}], [{"a": 1}], [1j]):
        assert d(v) is None, v
