"""Reading HumanEval+, MBPP+, MBPP and MultiPL-E's MBPP files: shapes, sizes, versions, defects."""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import pytest

from humaneval_lab.errors import InputFileError, UserInputError
from humaneval_lab.problems import ProblemSet, load_problems
from tests.suites.conftest import DATASETS, HUMANEVAL_PLUS, MBPP, MBPP_SANITIZED


@pytest.mark.parametrize(
    ("rel", "size", "suite", "version", "fmt"),
    [
        ("humaneval-plus/HumanEvalPlus.jsonl.gz", 164, "humaneval+", "v0.1.10", "evalplus"),
        ("humaneval-plus/HumanEvalPlus-Mini.jsonl.gz", 164, "humaneval+-mini", "v0.1.10", "evalplus"),
        (
            "humaneval-plus/HumanEvalPlus-NoExtreme.jsonl.gz",
            164,
            "humaneval+-noextreme",
            "v0.1.10",
            "evalplus",
        ),
        (
            "humaneval-plus/HumanEvalPlus-OriginFmt.jsonl.gz",
            164,
            "humaneval+-originfmt",
            "v0.1.10",
            "human-eval",
        ),
        ("mbpp-plus/MbppPlus.jsonl.gz", 378, "mbpp+", "v0.2.0", "evalplus"),
        ("mbpp-plus/MbppPlus-NoExtreme.jsonl.gz", 378, "mbpp+-noextreme", "v0.2.0", "evalplus"),
        ("mbpp-plus/MbppPlus-OriginFmt.jsonl.gz", 378, "mbpp+-originfmt", "v0.2.0", "mbpp-sanitized"),
        ("mbpp-plus/v0.1.0/MbppPlus.jsonl.gz", 399, "mbpp+", "v0.1.0", "evalplus"),
        ("mbpp/mbpp.jsonl", 500, "mbpp", "google-research", "mbpp"),
        ("mbpp/sanitized-mbpp.json", 427, "mbpp-sanitized", "google-research", "mbpp-sanitized"),
    ],
)
def test_each_file_loads_with_its_size_and_release(
    rel: str, size: int, suite: str, version: str, fmt: str
) -> None:
    ps = load_problems(path=DATASETS / rel)
    assert len(ps) == size
    ident = ps.identity()["suite"]
    assert (ident["suite"], ident["version"], ident["format"]) == (suite, version, fmt)
    assert len(ident["file_sha256"]) == 64
    assert {p.language for p in ps} == {"python"}


def test_evalplus_record_becomes_a_judge_with_its_data_as_a_string(humaneval_plus: ProblemSet) -> None:
    p = humaneval_plus.get("HumanEval/0")
    assert p.source_format == "evalplus" and p.entry_point == "has_close_elements"
    assert p.prompt.startswith("from typing import List")
    info = p.extras["evalplus"]
    assert (info["dataset"], info["base_inputs"], info["atol"]) == ("humaneval", 7, 0)
    # The inputs travel as one JSON string literal, read with json.loads in the sandbox: the last
    # line calls the judge, the line before assigns the string.
    lines = p.tests.rstrip("\n").splitlines()
    assert lines[-1] == "_hel_evalplus['evalplus_check'](has_close_elements, _HEL_EVALPLUS_DATA)"
    data = json.loads(ast.literal_eval(lines[-2].split(" = ", 1)[1]))
    assert len(data["plus_input"]) == info["plus_inputs"] and data["canonical"].endswith(
        p.canonical_solution or ""
    )


def test_mbpp_plus_defects_are_kept_as_they_are(mbpp_plus: ProblemSet) -> None:
    # Mbpp/404: bare Infinity in the inputs survives (json reads and writes it); Mbpp/793: plus is {}.
    assert "-Infinity" in mbpp_plus.get("Mbpp/404").tests
    assert mbpp_plus.get("Mbpp/793").extras["evalplus"]["plus_inputs"] == 0


def test_mbpp_test_split_prompt_and_tests() -> None:
    ps = load_problems(path=MBPP)
    ids = [int(p.task_id.split("/")[1]) for p in ps]
    assert (min(ids), max(ids), len(ids)) == (11, 510, 500)
    assert ps.identity()["suite"]["split"] == "test"
    p = ps.get("Mbpp/11")
    assert p.prompt == (
        '"""\nWrite a python function to remove first and last occurrence of a given character from the '
        'string.\nassert remove_Occ("hello","l") == "heo"\n"""\n'
    )
    assert (
        p.entry_point == "remove_Occ"
        and p.tests.count("assert ") == 3
        and "\r" not in (p.canonical_solution or "")
    )
    # test_setup_code builds the solution's Node trees: those tests run in-process, as MBPP runs them.
    assert ps.get("Mbpp/367").extras["python_isolation"] is False
    assert "Node(" in ps.get("Mbpp/367").tests
    assert len(load_problems(path=MBPP, split="all")) == 974
    assert load_problems(path=MBPP, split="validation").identity()["suite"]["split"] == "validation"


def test_sanitized_mbpp_uses_its_test_imports() -> None:
    ps = load_problems(path=MBPP_SANITIZED)
    with_imports = [p for p in ps if p.tests.startswith("import ")]
    assert len(with_imports) == 13
    assert ps.identity()["suite"]["split"] == "all"


def test_a_split_is_refused_where_it_means_nothing() -> None:
    with pytest.raises(UserInputError, match="MBPP files only"):
        load_problems(path=HUMANEVAL_PLUS, split="test")
    with pytest.raises(UserInputError, match="unknown MBPP split 'dev'"):
        load_problems(path=MBPP, split="dev")


def test_multipl_e_mbpp_loads_like_its_humaneval_files() -> None:
    counts = {}
    for f in sorted(DATASETS.glob("multipl-e/mbpp-*-reworded.jsonl")):
        ps = load_problems(path=f)
        assert all(p.source_format == "multipl-e" and p.task_id.startswith("mbpp_") for p in ps)
        counts[f.name.split("-")[1]] = len(ps)
        assert ps.identity()["suite"]["version"] == "cf9db33"
    assert len(counts) == 22 and sum(counts.values()) == 8522
    p = load_problems(path=DATASETS / "multipl-e" / "mbpp-js-reworded.jsonl").get("mbpp_237_check_occurences")
    assert p.entry_point == "check_occurences" and p.language == "javascript"


def test_malformed_evalplus_records_are_one_clear_error(tmp_path: Path) -> None:
    rec = {"task_id": "HumanEval/0", "prompt": "", "entry_point": "f(x)", "canonical_solution": "",
           "base_input": [], "plus_input": [], "atol": 0}  # fmt: skip
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(rec) + "\n").encode()))
    with pytest.raises(InputFileError, match="is not a Python name"):
        load_problems(path=path)
    rec["entry_point"], rec["atol"] = "f", -1
    path.write_bytes(gzip.compress((json.dumps(rec) + "\n").encode()))
    with pytest.raises(InputFileError, match="atol must be a number"):
        load_problems(path=path)


def test_an_unknown_release_is_still_identified_by_its_bytes(tmp_path: Path) -> None:
    src = gzip.decompress(HUMANEVAL_PLUS.read_bytes()).splitlines()[:2]
    path = tmp_path / "MyPlus.jsonl"
    path.write_bytes(b"\n".join(src) + b"\n")
    ident = load_problems(path=path).identity()["suite"]
    assert (ident["suite"], ident["version"], ident["format"]) == ("MyPlus", "unknown", "evalplus")
