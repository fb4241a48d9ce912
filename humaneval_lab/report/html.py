"""The report as one self-contained HTML page: inline CSS, inline SVG charts, a little inline JS.

Charts are drawn here as SVG, so the page shows its numbers even with scripts off; the script only
adds the problem view (click a grid cell, or open ``report.html#task=HumanEval/3``) and the grid
filter. Nothing is fetched: no CDN, no fonts, no images; it works offline and from a file:// URL.

Completions and error tails are model output, i.e. untrusted: they reach the page only as JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, and the script puts
them in with ``textContent``, never as markup.
"""

from __future__ import annotations

import json
from html import escape
from math import log10
from typing import Any

from humaneval_lab.numfmt import level, pts, pts_range, rate
from humaneval_lab.report import Report, RunView
from humaneval_lab.report.assets import CSS, ERROR_TRAP, SCRIPT

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
VERDICT_COLORS = {
    "passed": "#1a9850", "failed": "#d73027", "error": "#f46d43", "timeout": "#7b3294", "oom": "#c2a5cf",
    "output_limit": "#fdae61", "crashed": "#8c510a", "infra_error": "#4d4d4d",
}  # fmt: skip


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# The grid's pass-rate scale: one hue (ColorBrewer Blues), light for 0% to dark for 100%. It shares
# no colour with VERDICT_COLORS: a red-yellow-green ramp put a 25% cell in the orange of the verdict
# bar's "error", so a reader could take "1 of 4 passed" for "errored".
RATE_STOPS = ((0.0, (239, 243, 255)), (0.25, (189, 215, 231)), (0.5, (107, 174, 214)), (0.75, (49, 130, 189)),
              (1.0, (8, 81, 156)))  # fmt: skip


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{v:02x}" for v in rgb)


def rate_color(r: float) -> str:
    """The grid's colour for a pass rate c/n in [0, 1] (see RATE_STOPS)."""
    r = min(1.0, max(0.0, r))
    for (x0, c0), (x1, c1) in zip(RATE_STOPS, RATE_STOPS[1:], strict=False):
        if r <= x1:
            t = (r - x0) / (x1 - x0)
            r0, g0, b0 = c0
            return _hex(
                (round(r0 + (c1[0] - r0) * t), round(g0 + (c1[1] - g0) * t), round(b0 + (c1[2] - b0) * t))
            )
    return _hex(RATE_STOPS[-1][1])


def rate_legend() -> str:
    """The grid's colour key: 0%, 25%, 50%, 75%, 100% of a problem's samples passed."""
    keys = "".join(f'<span class="key"><i style="background:{rate_color(x)}"></i>{rate(x)}</span>'
                   for x, _ in RATE_STOPS)  # fmt: skip
    return f'<div class="legend" id="grid-legend"><span>samples passed:</span>{keys}</div>'


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<span class="key"><i style="background:{color(i)}"></i>{escape(n)}</span>'
        for i, n in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


def curves_svg(runs: tuple[RunView, ...]) -> str:
    """pass@k against k (log axis when k spans more than a decade) for every run."""
    w, h, left, right, top, bottom = 640, 300, 48, 16, 12, 36
    kmax = max(k for r in runs for k, _ in r.curve)
    use_log = kmax > 10

    def x(k: int) -> float:
        span = log10(kmax) if use_log else kmax - 1
        pos = (log10(k) if use_log else k - 1) / span if span else 0.5
        return left + pos * (w - left - right)

    def y(v: float) -> float:
        return top + (1 - v) * (h - top - bottom)

    parts = [
        f'<svg class="chart" id="chart-curves" viewBox="0 0 {w} {h}" style="max-width:{w}px" role="img" aria-label="pass@k versus k">'
    ]
    for t in range(0, 11, 2):
        v = t / 10
        parts.append(f'<line class="grid" x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{t * 10}%</text>')  # fmt: skip
    ticks = [k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if k <= kmax] if use_log else sorted(
        {1, kmax, *range(1, kmax + 1, max(1, kmax // 8))})  # fmt: skip
    for k in ticks:
        parts.append(
            f'<text class="tick" x="{x(k):.1f}" y="{h - bottom + 16}" text-anchor="middle">{k}</text>'
        )
    parts.append(f'<text class="axis" x="{(left + w - right) / 2}" y="{h - 4}" text-anchor="middle">k</text>')
    for i, r in enumerate(runs):
        pts = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in r.curve)
        parts.append(f'<polyline class="series" points="{pts}" stroke="{color(i)}"/>')
        for k, v in r.curve:
            parts.append(f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color(i)}">'
                         f"<title>{escape(r.name)}: pass@{k} = {rate(v)}</title></circle>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(report: Report) -> str:
    """pass@k per language (and overall) per run, with the bootstrap interval as a whisker."""
    scopes = [b.scope for b in report.runs[0].bars]
    n_runs = len(report.runs)
    group_w = max(60, 22 * n_runs + 24)
    left, top, bottom, h = 48, 12, 40, 280
    w = left + group_w * len(scopes) + 16

    def y(v: float) -> float:
        return top + (1 - v) * (h - top - bottom)

    parts = [
        f'<svg class="chart" id="chart-bars" viewBox="0 0 {w} {h}" style="max-width:{max(w, 240)}px" role="img" aria-label="pass@k per language">'
    ]
    for t in range(0, 11, 2):
        v = t / 10
        parts.append(f'<line class="grid" x1="{left}" x2="{w - 16}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{t * 10}%</text>')  # fmt: skip
    bar_w = (group_w - 24) / n_runs
    for g, scope in enumerate(scopes):
        gx = left + g * group_w + 12
        parts.append(f'<text class="tick" x="{gx + (group_w - 24) / 2:.1f}" y="{h - bottom + 16}" '
                     f'text-anchor="middle">{escape(scope)}</text>')  # fmt: skip
        for i, r in enumerate(report.runs):
            b = r.bars[g]
            iv = b.interval
            bx = gx + i * bar_w
            cx = bx + bar_w / 2
            tip = (f"{escape(r.name)} · {escape(scope)}: pass@{report.k} = {rate(iv.estimate)} "
                   f"({level(report.confidence)} CI {rate(iv.low)} to {rate(iv.high)}, {b.problems} problems)")  # fmt: skip
            parts.append(
                f'<g class="bar"><rect x="{bx + 1:.1f}" y="{y(iv.estimate):.1f}" width="{bar_w - 2:.1f}" '
                f'height="{y(0) - y(iv.estimate):.1f}" fill="{color(i)}"><title>{tip}</title></rect>'
                f'<line class="whisker" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(iv.low):.1f}" y2="{y(iv.high):.1f}"/>'
                f'<line class="whisker" x1="{cx - 4:.1f}" x2="{cx + 4:.1f}" y1="{y(iv.low):.1f}" y2="{y(iv.low):.1f}"/>'
                f'<line class="whisker" x1="{cx - 4:.1f}" x2="{cx + 4:.1f}" y1="{y(iv.high):.1f}" y2="{y(iv.high):.1f}"/></g>'
            )  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def verdicts_svg(runs: tuple[RunView, ...]) -> str:
    """One stacked bar per run: the share of samples per verdict."""
    kinds = sorted({v for r in runs for v in r.verdicts}, key=lambda v: (list(VERDICT_COLORS).index(v)
                                                                          if v in VERDICT_COLORS else 99, v))  # fmt: skip
    label_w, w, row_h = 150, 900, 28
    h = row_h * len(runs) + 8
    parts = [
        f'<svg class="chart" id="chart-verdicts" viewBox="0 0 {w} {h}" style="max-width:{w}px" role="img" aria-label="verdicts">'
    ]
    for i, r in enumerate(runs):
        total = sum(r.verdicts.values()) or 1
        x = float(label_w)
        yy = 4 + i * row_h
        parts.append(
            f'<text class="tick" x="{label_w - 8}" y="{yy + 17}" text-anchor="end">{escape(r.name[:22])}</text>'
        )
        for kind in kinds:
            count = r.verdicts.get(kind, 0)
            if not count:
                continue
            bw = (w - label_w - 8) * count / total
            parts.append(f'<rect x="{x:.1f}" y="{yy}" width="{bw:.1f}" height="{row_h - 6}" '
                         f'fill="{VERDICT_COLORS.get(kind, "#999")}"><title>{escape(r.name)}: {escape(kind)} '
                         f"{count} of {total} samples ({rate(count / total)})</title></rect>")  # fmt: skip
            x += bw
    parts.append("</svg>")
    keys = "".join(f'<span class="key"><i style="background:{VERDICT_COLORS.get(k, "#999")}"></i>{escape(k)}</span>'
                   for k in kinds)  # fmt: skip
    return "".join(parts) + f'<div class="legend">{keys}</div>'


def grid_html(report: Report) -> str:
    """Problems x runs, each cell coloured by the run's pass rate c/n on that problem."""
    head = "".join(f'<th title="{escape(r.name)}">{escape(r.name[:14])}</th>' for r in report.runs)
    rows = []
    for t, (task, lang) in enumerate(zip(report.task_ids, report.task_languages, strict=True)):
        rates = [r.counts[t][1] / r.counts[t][0] for r in report.runs]
        differs = "1" if len(set(rates)) > 1 else "0"
        cells = "".join(
            f'<td class="cell" data-task="{escape(task)}" style="background:{rate_color(x)}" '
            f'title="{escape(task)} · {escape(r.name)}: {r.counts[t][1]}/{r.counts[t][0]} passed ({rate(x)})"></td>'
            for r, x in zip(report.runs, rates, strict=True)
        )  # fmt: skip
        rows.append(f'<tr data-task="{escape(task)}" data-differs="{differs}"><th class="task">{escape(task)}</th>'
                    f'<td class="lang">{escape(lang)}</td>{cells}</tr>')  # fmt: skip
    return (f'<table id="grid"><thead><tr><th>problem</th><th>language</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')  # fmt: skip


def summary_table(report: Report) -> str:
    ks = sorted({k for r in report.runs for k in r.pass_at_k}, key=lambda s: int(s.split("@")[1]))
    head = "".join(f"<th>{escape(k)}</th>" for k in ks)
    rows = "".join(
        f'<tr><td><span class="swatch" style="background:{color(i)}"></span>{escape(r.name)}</td>'
        f"<td>{escape(r.model)}</td><td>{r.samples}</td><td>{r.min_n}–{r.max_n}</td>"
        + "".join(f"<td>{rate(r.pass_at_k[k])}</td>" if k in r.pass_at_k else "<td>–</td>" for k in ks)
        + "</tr>"
        for i, r in enumerate(report.runs)
    )
    return f"<table><thead><tr><th>run</th><th>model</th><th>samples</th><th>n per problem</th>{head}</tr></thead><tbody>{rows}</tbody></table>"


def evalplus_html(report: Report) -> str:
    """HumanEval+/MBPP+ runs: pass@k on the base tests and on base + plus, side by side ("" if none)."""
    ks = sorted({k for r in report.runs for k in r.evalplus}, key=lambda s: int(s.split("@")[1]))
    if not ks:
        return ""
    head = "".join(f"<th>{escape(k)} base</th><th>{escape(k)} base+plus</th>" for k in ks)
    rows = "".join(
        f'<tr><td><span class="swatch" style="background:{color(i)}"></span>{escape(r.name)}</td>'
        + "".join(
            "".join(f"<td>{rate(v)}</td>" for v in r.evalplus[k])
            if k in r.evalplus
            else "<td>–</td><td>–</td>"
            for k in ks
        )
        + "</tr>"
        for i, r in enumerate(report.runs)
    )
    return (
        "<section><h2>EvalPlus: base tests and base + plus tests</h2>"
        f"<table><thead><tr><th>run</th>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def comparison_html(report: Report) -> str:
    c = report.comparison
    if c is None:
        return ""
    out = []
    for pair in c.pairs:
        rows = "".join(
            f"<tr><td>pass@{d.k}</td><td>{escape(d.scope)}</td><td>{rate(d.baseline_value)}</td>"
            f"<td>{rate(d.candidate_value)}</td><td class=\"{'up' if d.estimate > 0 else 'down' if d.estimate < 0 else ''}\">"
            f"{pts(d.estimate)}</td><td>{pts_range(d.interval.low, d.interval.high)}</td>"
            f"<td>{d.test.p_value:.3g}</td></tr>"
            for d in pair.differences
        )  # fmt: skip

        def flips(items: tuple[Any, ...]) -> str:
            return (
                " ".join(
                    f'<a href="#task={escape(f.task_id)}" class="flip">{escape(f.task_id)}</a>' for f in items
                )
                or "none"
            )

        out.append(
            f"<h3>{escape(pair.candidate)} vs {escape(pair.baseline)}</h3>"
            f"<table><thead><tr><th>metric</th><th>scope</th><th>baseline</th><th>candidate</th><th>difference</th>"
            f"<th>{level(c.confidence)} CI (paired bootstrap)</th><th>p ({escape(c.test)})</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p><b>Solved only by {escape(pair.candidate)}</b> ({len(pair.gained)}): {flips(pair.gained)}</p>"
            f"<p><b>Solved only by {escape(pair.baseline)}</b> ({len(pair.lost)}): {flips(pair.lost)}</p>"
        )  # fmt: skip
    return "<section><h2>Paired comparison</h2>" + "".join(out) + "</section>"


def page_data(report: Report) -> dict[str, Any]:
    """What the script needs for the problem view."""
    return {
        "tasks": list(report.task_ids),
        "languages": list(report.task_languages),
        "runs": [
            {
                "name": r.name,
                "counts": [list(c) for c in r.counts],
                "verdicts": [dict(v) for v in r.verdicts_per_problem],
                "examples": {t: {"sample_index": e.sample_index, "verdict": e.verdict, "reason": e.reason,
                                 "completion": e.completion, "stderr_tail": e.stderr_tail}
                             for t, e in r.examples.items()},
            }
            for r in report.runs
        ],
    }  # fmt: skip


def script_json(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment, whatever strings it holds."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")  # fmt: skip


def render(report: Report) -> str:
    ps = report.problem_set
    names = [r.name for r in report.runs]
    notes = "".join(
        f'<p class="note">{escape(n)}</p>' for n in (report.comparison.notes if report.comparison else ())
    )
    infra = "".join(
        f'<p class="note">{escape(r.name)}: {r.infra_errors} samples could not be judged (sandbox failures)</p>'
        for r in report.runs if r.infra_errors and not report.comparison
    )  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.title)} · humaneval-lab report</title>
<script>{ERROR_TRAP}</script>
<style>{CSS}</style></head>
<body>
<pre id="hel-errors" hidden></pre>
<header><h1>{escape(report.title)}</h1>
<p class="meta">Problem set <b>{escape(str(ps.get("name", "?")))}</b>: {escape(str(ps.get("size", len(report.task_ids))))} problems,
sha256 <code>{escape(str(ps.get("sha256", "?"))[:16])}</code>. Intervals: {level(report.confidence)} bootstrap over problems.</p>
{notes}{infra}</header>
<section><h2>Runs</h2>{summary_table(report)}</section>
{evalplus_html(report)}
{comparison_html(report)}
<section class="two"><div><h2>pass@k versus k</h2>{_legend(names)}{curves_svg(report.runs)}</div>
<div><h2>pass@{report.k} per language, {level(report.confidence)} CI</h2>{_legend(names)}{bars_svg(report)}</div></section>
<section><h2>Verdicts (all samples)</h2>{verdicts_svg(report.runs)}</section>
<section class="two"><div><h2>Problems × runs (pass rate)</h2>
<div class="controls"><input id="grid-filter" type="search" placeholder="filter task_id or language">
<label><input id="grid-differs" type="checkbox"> only where runs differ</label> <span id="grid-count"></span></div>
{rate_legend()}<div class="scroll">{grid_html(report)}</div>
<p class="hint">Click a cell to see the problem's failing completion and error.</p></div>
<div><h2>Problem</h2><select id="problem-select" aria-label="problem"></select><div id="problem-view"></div></div></section>
<footer>Made by humaneval-lab. Self-contained: this file fetches nothing.</footer>
<script type="application/json" id="hel-data">{script_json(page_data(report))}</script>
<script>{SCRIPT}</script>
</body></html>
"""
