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
