from __future__ import annotations

import pytest

from humaneval_lab.numfmt import amount, change, level, pts, pts_range, rate


@pytest.mark.parametrize(
    "x, text",
    [
        (0.0125, "1.25%"),
        (0.4, "40.00%"),
        (0.0, "0.00%"),
        (1.0, "100.00%"),
        (2 / 3, "66.67%"),
        (-0.0, "0.00%"),
    ],
)
def test_rate(x: float, text: str) -> None:
    assert rate(x) == text


@pytest.mark.parametrize(
    "d, text",
    [
        (0.3875, "+38.75 pts"),
        (-0.0125, "-1.25 pts"),
        (0.0, "+0.00 pts"),
        (-1e-9, "+0.00 pts"),
        (1e-9, "+0.00 pts"),
    ],
)
def test_pts_signed_never_minus_zero(d: float, text: str) -> None:
    assert pts(d) == text


def test_change_interval_amount_level() -> None:
    assert change(0.0125, 0.4) == "1.25% -> 40.00% (+38.75 pts)"
    assert change(0.5, 0.1) == "50.00% -> 10.00% (-40.00 pts)"
    # The exact difference, when given, wins over a float re-subtraction.
    assert change(0.1, 0.3, difference=0.2) == "10.00% -> 30.00% (+20.00 pts)"
    assert pts_range(-0.01, 0.02) == "-1.00 to +2.00 pts"
    assert amount(0.01) == "1.00 pts" and amount(-0.01) == "1.00 pts"
    assert level(0.95) == "95%" and level(0.975) == "97.5%" and level(0.9) == "90%"
