"""The one way humaneval-lab writes rates and their changes, everywhere a human reads them.

Rates (pass@k, pass rates, shares) are percentages with two decimals: ``1.25%``. A difference of two
rates is in percentage points with a sign: ``+38.75 pts``. A change shows both ends and the
difference: ``1.25% -> 40.00% (+38.75 pts)``. The terminal tables, ``gate``'s verdict, the JUnit file
and the HTML and markdown reports all call these functions, so the same number never reads 1.2% in
one place and 0.0125 in another. Machine output (``--json``, summary.json) keeps exact floats.
"""

from __future__ import annotations

DECIMALS = 2


def _points(x: float) -> float:
    """``x`` (a fraction) in percentage points, rounded to what is shown; never -0.00."""
    p = round(100 * x, DECIMALS)
    return 0.0 if p == 0 else p  # -0.0 would print "-0.00" for a tiny negative difference


def rate(x: float) -> str:
    """A rate in [0, 1] as a percentage: ``rate(0.0125) == "1.25%"``."""
    return f"{_points(x):.{DECIMALS}f}%"


def pts(d: float) -> str:
    """A difference of two rates, signed, in percentage points: ``pts(0.3875) == "+38.75 pts"``."""
    return f"{_points(d):+.{DECIMALS}f} pts"


def amount(x: float) -> str:
    """A size in percentage points, unsigned (a tolerance): ``amount(0.01) == "1.00 pts"``."""
    return f"{_points(abs(x)):.{DECIMALS}f} pts"


def pts_range(low: float, high: float) -> str:
    """An interval of differences: ``pts_range(-0.01, 0.02) == "-1.00 to +2.00 pts"``."""
    return f"{_points(low):+.{DECIMALS}f} to {_points(high):+.{DECIMALS}f} pts"


def change(before: float, after: float, difference: float | None = None) -> str:
    """``change(0.0125, 0.4) == "1.25% -> 40.00% (+38.75 pts)"``.

    ``difference`` is the exact difference when the caller has it (a float re-subtraction of two
    rounded ends could disagree with the exact one in the last digit).
    """
    d = after - before if difference is None else difference
    return f"{rate(before)} -> {rate(after)} ({pts(d)})"


def level(confidence: float) -> str:
    """A confidence level, without rounding it away: ``95%``, ``97.5%`` (never ``98%``)."""
    return f"{100 * confidence:.10g}%"
