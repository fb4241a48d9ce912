"""The resume contract shared by sample and score: whole lines, atomic manifests, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.errors import ResumeMismatchError
from humaneval_lab.resume import (
    JsonlWriter,
    differences,
    read_jsonl_prefix,
    read_manifest,
    truncate_to_lines,
    write_json_atomic,
)
from humaneval_lab.scoring.results import what_changed


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


def test_a_refusal_names_every_leaf_that_changed_with_both_values() -> None:
    old = {"sampling": {"n": 4, "temperature": 0.2}, "model": "a"}
    new = {"sampling": {"n": 4, "temperature": 0.8}, "model": "b"}
    assert differences(old, new) == ['model was "a", now "b"', "sampling.temperature was 0.2, now 0.8"]
    assert differences(old, old) == []


def test_a_score_refusal_names_a_setting_the_old_run_lacks() -> None:
    """A run from before CPU limits has no cpu_timeout_s; the refusal said "the settings changed: ;"."""
    old = {"verdict_settings": {"timeout_s": 10.0, "calibrated": True}}
    new = {"verdict_settings": {"timeout_s": 10.0, "calibrated": True, "cpu_timeout_s": None}}
    assert what_changed(old, new) == "the settings changed: cpu_timeout_s was absent, now null"
    assert what_changed(new, new) is None


def test_a_missing_manifest_is_none_and_a_corrupt_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert read_manifest(path, "use another folder") is None
    path.write_text("{torn")
    with pytest.raises(ResumeMismatchError, match="manifest.json is corrupt; use another folder"):
        read_manifest(path, "use another folder")
    path.write_text("[1, 2]")
    with pytest.raises(ResumeMismatchError, match="not a manifest"):
        read_manifest(path, "use another folder")
    path.write_text(json.dumps({"a": 1}))
    assert read_manifest(path, "x") == {"a": 1}


def test_truncate_to_lines_keeps_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3}\n')
    truncate_to_lines(path, 2)
    assert path.read_text() == '{"a": 1}\n{"a": 2}\n'
    truncate_to_lines(tmp_path / "absent.jsonl", 3)  # nothing to keep: no error, no file
    assert not (tmp_path / "absent.jsonl").exists()
