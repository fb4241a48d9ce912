"""The README is an interface: its commands must exist and its make targets must be real."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from humaneval_lab.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_make_target_in_readme_exists() -> None:
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    for line in re.findall(r"^make ([a-z -]+)", README, flags=re.M):
        for target in line.split():
            assert target in targets, f"README names `make {target}`, the Makefile lacks it"


def test_every_cli_command_in_readme_exists_and_has_help_with_an_example() -> None:
    named = set(re.findall(r"humaneval-lab ([a-z]+(?: [a-z]+)?)", README))
    assert {"score", "sample", "compare", "gate", "report"} <= {n.split()[0] for n in named}
    assert {"problems list", "sandbox build", "sandbox check"} <= named
    for name in named:
        words = name.split()
        r = CliRunner().invoke(main, [*words, "--help"])
        if r.exit_code != 0 and len(words) == 2:  # "score samples" is a command plus an argument
            words = words[:1]
            r = CliRunner().invoke(main, [*words, "--help"])
        assert r.exit_code == 0, f"`humaneval-lab {name}` from the README: {r.output}"
        if len(words) == 2 or words[0] not in ("problems", "sandbox"):  # groups list commands instead
            assert "Example" in r.output, f"`humaneval-lab {name} --help` shows no example"


MAKEFILE = (REPO / "Makefile").read_text()


def _demo_recipe() -> str:
    return MAKEFILE.split("\ndemo:", 1)[1].split("\n\n", 1)[0]


def test_demo_model_is_the_q4_1_gguf_the_readme_names() -> None:
    from humaneval_lab.sampling.models import NAMED_MODELS

    model = re.search(r"--model (\S+)", _demo_recipe())
    assert model, "make demo names no --model"
    m = NAMED_MODELS[model.group(1)]
    assert m.gguf.endswith(".Q4_1.gguf") and "dequantised" in m.about
    assert f"`--model {m.name}`" in README and f"`{m.package}`" in README
    assert "Q4_1 GGUF" in README and "dequantised to float32" in README


def test_readme_points_at_what_make_demo_writes(tmp_path: Path) -> None:
    """The folders the README sends a user to are the ones `make demo` writes, and `report` reads them."""
    from .run_factory import make_run

    score_dir = re.search(r"humaneval-lab score .* -o (\S+)", _demo_recipe())
    assert score_dir
    folder = score_dir.group(1)
    for path in (f"{folder}/summary.json", f"{folder}/results.jsonl"):
        assert f"`{path}`" in README, path
    assert f"humaneval-lab report {folder} -o " in README
    n = re.search(r"^DEMO_N \?= (\d+)", MAKEFILE, re.M)
    assert n and f"pass@1 and pass@{n.group(1)}" in README
    # One run is enough for a report, in either format the README offers.
    make_run(tmp_path / "score", [(4, 1), (4, 0), (4, 4)], ks=(1, 4))
    for name, head in (("report.html", "<!DOCTYPE html>"), ("report.md", "## humaneval-lab:")):
        r = CliRunner().invoke(main, ["report", str(tmp_path / "score"), "-o", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
        assert (tmp_path / name).read_text().startswith(head)


def test_plain_pip_install_uses_a_real_extra() -> None:
    assert "pip install -e '.[hf]'" in README
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    hf = cfg["options.extras_require"]["hf"].split()
    assert "torch" in hf and any(d.startswith("transformers") for d in hf)
    assert "humaneval-lab sandbox build" in README and "must already be running" in README


def test_builtin_suites_and_dataset_sources(datasets: Path) -> None:
    """Only the suites the README names ship; the files it sends users to load as it says."""
    from humaneval_lab.problems import load_problems, suite_names

    assert sorted(suite_names()) == ["humaneval", "polyglot"]
    assert "two suites: `humaneval` (Python" in README
    assert "github.com/THUDM/CodeGeeX" in README and "codegeex/benchmark/humaneval-x/<lang>/data/" in README
    assert "github.com/nuprl/MultiPL-E" in README and "humaneval-<lang>-reworded.jsonl" in README
    assert "/work/" not in README and "shared/datasets" not in README  # upstream sources, not our copies
    go = load_problems(path=datasets / "humaneval-x" / "humaneval_go.jsonl.gz")
    assert len(go) == 164 and go.languages == ["go"]
    lua = load_problems(path=datasets / "multipl-e" / "humaneval-lua-reworded.jsonl")
    assert lua.languages == ["lua"] and len(lua) > 150


def test_readme_output_section_matches_behaviour() -> None:
    from humaneval_lab import console

    example = re.search(r"`(scored \d+/\d+ \(\d+%\), [\d.]+/s, eta \S+)`", README)
    assert example, "the README shows no progress line"
    done, total, speed = re.match(r"scored (\d+)/(\d+) \(\d+%\), ([\d.]+)/s", example.group(1)).groups()  # type: ignore[union-attr]
    # What the code prints for that state is exactly the README's line.
    now = [0.0]
    lines: list[str] = []
    p = console.PlainProgress("scored", console.PLAIN_PROGRESS_INTERVAL_S, lines.append, clock=lambda: now[0])
    p.update(0, int(total))
    now[0] = int(done) / float(speed)
    p.update(int(done), int(total))
    assert lines == [example.group(1)]
    assert f"every {console.PLAIN_PROGRESS_INTERVAL_S:g} s" in README
    assert "`1.25% -> 40.00% (+38.75 pts)`" in README
    from humaneval_lab.numfmt import change

    assert change(0.0125, 0.4) == "1.25% -> 40.00% (+38.75 pts)"
