"""The report as GitHub-flavoured markdown, short enough for a pull-request comment."""

from __future__ import annotations

from humaneval_lab.numfmt import level, pts, pts_range, rate
from humaneval_lab.report import Report

MAX_FLIPS = 30  # a PR comment lists this many flipped problems per direction, then counts the rest


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _flips(ids: list[str]) -> str:
    if not ids:
        return "none"
    shown = ", ".join(f"`{_cell(t)}`" for t in ids[:MAX_FLIPS])
    return shown + (f" and {len(ids) - MAX_FLIPS} more" if len(ids) > MAX_FLIPS else "")


def render(report: Report) -> str:
    ps = report.problem_set
    lines = [
        f"## humaneval-lab: {_cell(report.title)}",
        "",
        f"Problem set **{_cell(str(ps.get('name', '?')))}** ({ps.get('size', len(report.task_ids))} problems, "
        f"sha256 `{str(ps.get('sha256', '?'))[:12]}`); intervals are {level(report.confidence)} bootstrap over problems.",
        "",
    ]
    ks = sorted({k for r in report.runs for k in r.pass_at_k}, key=lambda s: int(s.split("@")[1]))
    lines += ["| run | model | samples | " + " | ".join(ks) + " |", "|---|---|---:|" + "---:|" * len(ks)]
    for r in report.runs:
        vals = " | ".join(rate(r.pass_at_k[k]) if k in r.pass_at_k else "–" for k in ks)
        lines.append(f"| {_cell(r.name)} | {_cell(r.model)} | {r.samples} | {vals} |")
    plus_ks = sorted({k for r in report.runs for k in r.evalplus}, key=lambda s: int(s.split("@")[1]))
    if plus_ks:  # HumanEval+/MBPP+: the two numbers EvalPlus papers quote, side by side
        lines += ["", "### EvalPlus: base tests and base + plus tests", "",
                  "| run | " + " | ".join(f"{k} base | {k} base+plus" for k in plus_ks) + " |",
                  "|---|" + "---:|---:|" * len(plus_ks)]  # fmt: skip
        for r in report.runs:
            cells = " | ".join(
                " | ".join(rate(v) for v in r.evalplus[k]) if k in r.evalplus else "– | –" for k in plus_ks
            )
            lines.append(f"| {_cell(r.name)} | {cells} |")
    scopes = [b.scope for b in report.runs[0].bars]
    lines += ["", f"### pass@{report.k} per language ({level(report.confidence)} CI)", "",
              "| run | " + " | ".join(scopes) + " |", "|---|" + "---:|" * len(scopes)]  # fmt: skip
    for r in report.runs:
        cells = " | ".join(
            f"{rate(b.interval.estimate)} ({rate(b.interval.low)}–{rate(b.interval.high)})" for b in r.bars
        )
        lines.append(f"| {_cell(r.name)} | {cells} |")
    c = report.comparison
    for pair in c.pairs if c else ():
        assert c is not None
        lines += ["", f"### {_cell(pair.candidate)} vs {_cell(pair.baseline)}", "",
                  f"| metric | scope | baseline | candidate | difference | {level(c.confidence)} CI | p |",
                  "|---|---|---:|---:|---:|---|---:|"]  # fmt: skip
        for d in pair.differences:
            lines.append(
                f"| pass@{d.k} | {_cell(d.scope)} | {rate(d.baseline_value)} | {rate(d.candidate_value)} | "
                f"**{pts(d.estimate)}** | {pts_range(d.interval.low, d.interval.high)} | "
                f"{d.test.p_value:.3g} |"
            )
        lines += ["", f"Solved only by {_cell(pair.candidate)} ({len(pair.gained)}): "
                  + _flips([f.task_id for f in pair.gained]), "",
                  f"Solved only by {_cell(pair.baseline)} ({len(pair.lost)}): " + _flips([f.task_id for f in pair.lost])]  # fmt: skip
    if c:
        lines += [
            "",
            f"p: {c.test}; CI: paired bootstrap over problems ({c.resamples} resamples, seed {c.seed}).",
        ]
        lines += [f"> {n}" for n in c.notes]
    kinds = sorted({v for r in report.runs for v in r.verdicts})
    lines += [
        "",
        "### Verdicts (samples)",
        "",
        "| run | " + " | ".join(kinds) + " |",
        "|---|" + "---:|" * len(kinds),
    ]
    for r in report.runs:
        lines.append(f"| {_cell(r.name)} | " + " | ".join(str(r.verdicts.get(k, 0)) for k in kinds) + " |")
    return "\n".join(lines) + "\n"
