from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.errors import InputFileError, UnknownTaskError
from humaneval_lab.problems import load_problems
from humaneval_lab.records import JsonlWriter, read_jsonl_prefix, read_samples, write_json_atomic

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


def test_writer_appends_whole_lines_and_prefix_reader_drops_partial(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    with JsonlWriter(f) as w:
        w.write({"a": 1})
        w.write({"b": "é\udcff".encode("utf-8", "surrogateescape").decode("utf-8", "replace")})
    with f.open("a") as raw:
        raw.write('{"c": 3')  # a kill mid-write
    recs, size = read_jsonl_prefix(f)
    assert [list(r) for r in recs] == [["a"], ["b"]]
    assert size == len(f.read_bytes()) - len('{"c": 3')


def test_json_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "summary.json"
    write_json_atomic(path, {"b": 1, "a": [1, 2]})
    assert list(json.loads(path.read_text())) == ["b", "a"]  # order kept: a summary's problems are ordered
    with pytest.raises(TypeError):  # a write that fails leaves the old file as it was
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]  # no temporary left


def test_default_run_names_say_which_model_and_which_samples(tmp_path: Path) -> None:
    from humaneval_lab.records import default_run_name, describe_model

    hf = {"name": "smollm2-135m", "backend": "hf", "n": 4, "temperature": 0.2}
    assert default_run_name(hf, "runs/demo/samples.jsonl", "runs/demo/score") == "smollm2-135m (demo)"
    folder = {"name": "step-1200", "backend": "vllm"}
    assert default_run_name(folder, "/data/humaneval-n200.jsonl", "out") == "step-1200 (humaneval-n200)"
    assert default_run_name(None, "/data/ckpt-7.jsonl.gz", "out") == "ckpt-7"
    assert default_run_name(None, None, tmp_path / "score") == "score"
    assert describe_model(hf) == "smollm2-135m (hf), n=4, temperature 0.2"
    assert describe_model(None) == "unknown (no samples.manifest.json)"
