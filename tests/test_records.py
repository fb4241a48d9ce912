from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.errors import InputFileError, UnknownTaskError
from humaneval_lab.problems import load_problems
from humaneval_lab.records import read_samples

from .conftest import write_jsonl

PS = load_problems().select(limit=3)


def test_human_eval_samples_keep_their_fields(tmp_path: Path) -> None:
    f = write_jsonl(
        tmp_path / "s.jsonl", [{"task_id": "HumanEval/1", "completion": "  return 1\n", "model": "m"}]
    )
    (s,) = read_samples(f, PS)
    assert (
        s.completion == "  return 1\n" and not s.includes_prompt and s.fields["model"] == "m" and s.line == 1
    )


def test_evalplus_solution_includes_prompt(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "solution": "def f(): pass\n"}])
    (s,) = read_samples(f, PS)
    assert s.includes_prompt and s.completion == "def f(): pass\n"


def test_bigcode_generations_json(tmp_path: Path) -> None:
    f = tmp_path / "generations.json"
    f.write_text(json.dumps([["a", "b"], ["c"]]))
    got = [(s.task_id, s.completion, s.includes_prompt) for s in read_samples(f, PS)]
    assert got == [("HumanEval/0", "a", True), ("HumanEval/0", "b", True), ("HumanEval/1", "c", True)]


@pytest.mark.parametrize(
    "content,error,message",
    [
        (b"", InputFileError, "empty"),
        (b'{"task_id": "HumanEval/0", "completion": "x"}\n{oops}\n', InputFileError, ":2: malformed JSON"),
        (b'{"task_id": "HumanEval/0"}\n', InputFileError, ":1: missing field 'completion'"),
        (b'{"completion": "x"}\n', InputFileError, "missing field 'task_id'"),
        (b'{"task_id": "Nope/1", "completion": "x"}\n', UnknownTaskError, "Nope/1"),
        (b'{"task_id": "HumanEval/0", "completion": "\xff"}\n', InputFileError, "UTF-8"),
        (b"[1, 2]\n", InputFileError, "expected a JSON object, got int"),
        (b'[["a"], [3]]\n', InputFileError, "list of strings"),
        (b'{"task_id": "HumanEval/0", "completion": 5}\n', InputFileError, "must be a string"),
    ],
)
def test_bad_samples(tmp_path: Path, content: bytes, error: type[Exception], message: str) -> None:
    f = tmp_path / "s.jsonl"
    f.write_bytes(content)
    with pytest.raises(error, match=message):
        read_samples(f, PS)
