from __future__ import annotations

import os
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from humaneval_lab.passk import pass_at_k
from humaneval_lab.report import build_report, curve_ks, render_html, render_markdown
from humaneval_lab.report.assets import ERROR_TRAP

from .run_factory import make_run, problem_set

APT_LINE = "apt-get install -y --no-install-recommends chromium"
# A completion is model output: it must show up as text, never run or become markup.
EVIL = "</script><script>document.title='pwned'</script><img id=\"pwned\" src=x onerror=\"document.title='pwned'\">"


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, f"headless Chromium is needed for the report tests; install it: {APT_LINE}"
    return exe


def browse(tmp_path: Path, url: str, *extra: str) -> tuple[str, str]:
    """Load ``url`` in headless Chromium with networking off; return (DOM after scripts ran, stderr)."""
    profile = tmp_path / "chromium-profile"
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # anything fetched from the network would fail loudly
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", *extra, url,
    ]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout, r.stderr


def page_errors(dom: str) -> str:
    m = re.search(r'<pre id="hel-errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert m, "error trap element missing"
    return m.group(1)


def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    ps = problem_set(12, ("python", "cpp"))
    a = make_run(tmp_path / "ckpt-1000", [(6, i % 7) for i in range(12)], ps, ks=(1, 5), completion=EVIL,
                 monkeypatch=monkeypatch)  # fmt: skip
    b = make_run(tmp_path / "ckpt-1200", [(6, max(0, i % 7 - 2)) for i in range(12)], ps, ks=(1, 5),
                 completion=EVIL, monkeypatch=monkeypatch)  # fmt: skip
    return a, b


def test_report_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = two_runs(tmp_path, monkeypatch)
    rep = build_report([a, b], resamples=300)
    ra = rep.runs[0]
    assert [k for k, _ in ra.curve] == list(range(1, 7))
    for k, v in ra.curve:
        exact = sum((pass_at_k(n, c, k) for n, c in ra.counts), Fraction(0)) / len(ra.counts)
        assert v == float(exact)
    assert [b.scope for b in ra.bars] == ["overall", "cpp", "python"]
    assert ra.bars[0].interval.estimate == a.pass_at_k["pass@1"]
    assert set(ra.examples) == {f"HumanEval/{i}" for i in range(12) if i % 7 != 6}
    assert rep.comparison is not None and rep.comparison.pairs[0].lost
    assert curve_ks(200)[:3] == [1, 2, 3] and curve_ks(200)[-1] == 200 and len(curve_ks(200)) <= 64


def test_html_is_self_contained_and_escapes_completions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = render_html(build_report(two_runs(tmp_path, monkeypatch), resamples=300))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page must not fetch anything"
    assert "<link" not in html and "@import" not in html
    assert "</script><script>document.title" not in html and '<img id="pwned"' not in html
    assert html.count("<script") == 3  # error trap, data, app: nothing from the completions


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def test_grid_colours_are_not_verdict_colours_and_have_a_legend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partial pass rate must not read as a verdict: no grid colour is near any verdict bar colour."""
    from humaneval_lab.report.html import VERDICT_COLORS, rate_color

    verdicts = {kind: _rgb(c) for kind, c in VERDICT_COLORS.items()}
    for i in range(101):
        cell = _rgb(rate_color(i / 100))
        for kind, v in verdicts.items():
            distance = sum((a - b) ** 2 for a, b in zip(cell, v, strict=True)) ** 0.5
            # The old red-yellow-green ramp put 25% at distance 36 from "error"'s orange.
            assert distance > 50, (
                f"a {i}% cell ({rate_color(i / 100)}) looks like {kind} ({VERDICT_COLORS[kind]})"
            )
    shades = [rate_color(i / 100) for i in range(101)]
    assert len(set(shades)) > 50 and shades[0] != shades[-1]  # still a scale, light to dark
    assert sum(_rgb(shades[0])) > sum(_rgb(shades[50])) > sum(_rgb(shades[-1]))
    html = render_html(build_report(two_runs(tmp_path, monkeypatch), resamples=300))
    legend = re.search(r'<div class="legend" id="grid-legend">(.*?)</div>', html)
    assert legend, "the grid has no colour legend"
    keys = re.findall(r'<i style="background:(#[0-9a-f]{6})"></i>([^<]+)</span>', legend.group(1))
    assert keys == [(rate_color(x), label) for x, label in
                    ((0, "0.00%"), (0.25, "25.00%"), (0.5, "50.00%"), (0.75, "75.00%"), (1, "100.00%"))]  # fmt: skip
    # Cells use the same scale: a 4/6 cell has the colour of 66.67%.
    assert (
        f'style="background:{rate_color(4 / 6)}" title="HumanEval/4 · ckpt-1000: 4/6 passed (66.67%)"' in html
    )


def test_markdown_for_a_pr_comment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    md = render_markdown(build_report(two_runs(tmp_path, monkeypatch), resamples=300))
    assert md.startswith("## humaneval-lab: ckpt-1000 vs ckpt-1200")
    assert "| run | model | samples | pass@1 | pass@5 |" in md
    assert "| ckpt-1000 | unknown (no samples.manifest.json) | 72 |" in md
    assert "### ckpt-1200 vs ckpt-1000" in md and "| pass@1 | cpp |" in md
    assert "Solved only by ckpt-1000 (4): `HumanEval/1`, `HumanEval/2`, `HumanEval/8`, `HumanEval/9`" in md
    assert "### Verdicts (samples)" in md


def test_page_in_headless_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(build_report(two_runs(tmp_path, monkeypatch), resamples=300)))
    dom, stderr = browse(tmp_path, page.as_uri() + "#task=HumanEval/4", "--dump-dom")
    assert page_errors(dom) == "", page_errors(dom)
    assert "Uncaught" not in stderr and "CONSOLE" not in stderr, stderr[-2000:]
    assert 'data-ready="1"' in dom  # the script ran to its end
    # Charts rendered: two curves with one point per k, bars with whiskers, verdict stacks.
    curves = re.search(r'<svg[^>]*id="chart-curves".*?</svg>', dom, re.S)
    assert curves and curves.group(0).count("<polyline") == 2 and curves.group(0).count("<circle") == 12
    bars = re.search(r'<svg[^>]*id="chart-bars".*?</svg>', dom, re.S)
    assert bars and bars.group(0).count('<g class="bar">') == 6  # (overall, cpp, python) x 2 runs
    assert re.search(r'<svg[^>]*id="chart-verdicts"', dom)
    assert dom.count('class="cell"') == 24
    legend = re.search(r'<div class="legend" id="grid-legend">(.*?)</div>', dom, re.S)
    assert legend and legend.group(1).count("<i ") == 5 and "100.00%" in legend.group(1)
    # The problem view, opened from the URL, shows each run's failing completion as text.
    view = re.search(r'<div id="problem-view">(.*?)</div>\s*</div>\s*</section>', dom, re.S)
    assert view and "<h3>HumanEval/4</h3>" in view.group(1)
    assert "4/6 samples passed" in view.group(1) and "2/6 samples passed" in view.group(1)
    assert "hel-verdict:error sample 4" in view.group(1)
    assert "hel-verdict:timeout sample 2" in view.group(1) and "AssertionError" in view.group(1)
    assert "&lt;/script&gt;&lt;script&gt;document.title='pwned'" in view.group(1)
    assert '<img id="pwned"' not in dom and "<title>pwned" not in dom
    shot = Path(
        os.environ.get("HEL_REPORT_SCREENSHOT", tmp_path / "report.png")
    )  # set it to look at the page
    browse(tmp_path, page.as_uri() + "#task=HumanEval/4", f"--screenshot={shot}", "--window-size=1300,1800")
    assert shot.stat().st_size > 20_000


def test_the_browser_check_catches_a_broken_page(tmp_path: Path) -> None:
    """Negative control: the same harness reports a script error and a blocked network fetch."""
    page = tmp_path / "broken.html"
    page.write_text(f'<html><head><script>{ERROR_TRAP}</script></head><body><pre id="hel-errors" hidden></pre>'
                    '<img src="https://cdn.example.com/x.png"><script>notDefined();</script></body></html>')  # fmt: skip
    dom, _ = browse(tmp_path, page.as_uri(), "--dump-dom")
    errors = page_errors(dom)
    assert "notDefined" in errors and "failed to load https://cdn.example.com/x.png" in errors
