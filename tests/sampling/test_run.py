"""The harness around any backend, driven through the fake backend: records, manifest, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from humaneval_lab.errors import ResumeMismatchError, UserInputError
from humaneval_lab.problems import load_problems
from humaneval_lab.sampling import (
    SamplingConfig,
    derive_seed,
    make_backend,
    manifest_path,
    sample,
)
from humaneval_lab.sampling.configs import FakeConfig
from humaneval_lab.sampling.fake import FakeBackend
from tests.cli_helpers import one_error_line, run

from .helpers import by_key, rows


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"temperature": 3.0}, "temperature must be in [0, 2], got 3.0"),
        ({"top_p": 0.0}, "top_p must be in (0, 1], got 0.0"),
        ({"n": 0}, "n must be a positive integer, got 0"),
        ({"max_new_tokens": 0}, "max_new_tokens must be at least 1, got 0"),
        ({"prompt_mode": "json"}, "prompt mode must be 'raw' or 'chat'"),
        ({"extra_stops": ("",)}, "stop sequences must not be empty"),
    ],
)
def test_config_validates_itself(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UserInputError) as e:
        SamplingConfig(**kwargs)  # type: ignore[arg-type]
    assert message in str(e.value)


def test_seeds_are_per_run_task_and_index() -> None:
    seeds = {derive_seed(s, t, i) for s in (0, 1) for t in ("HumanEval/0", "HumanEval/1") for i in range(50)}
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert derive_seed(0, "HumanEval/0", 3) == derive_seed(0, "HumanEval/0", 3)


def test_cli_fake_writes_human_eval_jsonl_that_score_reads(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    code, stdout, err = run("sample", "--backend", "fake", "--model", "canonical", "--limit", "3", "-n", "2",
                            "-o", str(out), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["samples"] == 6 and "6 samples in" in err
    recs = rows(out)
    assert len(recs) == 6
    ps = load_problems().select(limit=3)
    for r in recs:
        p = ps.get(r["task_id"])
        assert r["completion"] == p.canonical_solution  # cut at "\nif __name__"
        assert r["raw"].startswith(p.canonical_solution) and "junk after a stop" in r["raw"]
        assert r["stop"] == "\nif __name__" and r["finish_reason"] == "stop"
        assert r["seed"] == derive_seed(0, r["task_id"], r["sample_index"])
    m = json.loads(manifest_path(out).read_text())
    assert m["problem_set"]["sha256"] == ps.content_hash and m["sampling"]["n"] == 2
    assert m["backend"] == {"backend": "fake", "model": {"name": "canonical"}} and "python" in m["versions"]
    code, stdout, err = run("score", str(out), "--limit", "3", "--sandbox", "local", "-k", "1", "-o",
                            str(tmp_path / "score"), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["pass@k"] == {"pass@1": 1.0}


def test_prompt_is_sent_exactly_as_given(tmp_path: Path) -> None:
    seen: list[str] = []

    class Spy(FakeBackend):
        def generate(self, items, config):  # type: ignore[no-untyped-def]
            items = list(items)
            seen.extend(it.prompt for it in items)
            return super().generate(items, config)

    ps = load_problems().select(limit=5)
    sample(ps, Spy(), SamplingConfig(), tmp_path / "s.jsonl")
    assert seen == [p.prompt for p in ps] and all(s.endswith("\n") for s in seen)


def test_broken_bytes_become_valid_utf8_json(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    code, _, err = run(
        "sample", "--backend", "fake", "--model", "bytes", "--limit", "4", "-n", "3", "-o", str(out)
    )
    assert code == 0, err
    text = out.read_bytes().decode("utf-8")  # strict
    recs = [json.loads(x) for x in text.splitlines()]
    assert len(recs) == 12 and all("\ufffd" in r["raw"] and "\x00" in r["completion"] for r in recs)
    code, _, err = run(
        "score", str(out), "--limit", "4", "--sandbox", "local", "-k", "1", "-o", str(tmp_path / "sc")
    )
    assert code == 0, err


def test_chat_mode_extracts_the_fenced_function(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    code, _, err = run("sample", "--backend", "fake", "--model", "chat", "--prompt-mode", "chat", "--limit", "3",
                       "-o", str(out))  # fmt: skip
    assert code == 0, err
    recs = rows(out)
    assert all(r["extraction"] == "fenced" and r["completion"].startswith("\n") for r in recs)
    assert json.loads(manifest_path(out).read_text())["prompt"]["mode"] == "chat"
    code, stdout, err = run("score", str(out), "--limit", "3", "--sandbox", "local", "-k", "1", "-o",
                            str(tmp_path / "sc"), "--json")  # fmt: skip
    assert code == 0 and json.loads(stdout)["pass@k"] == {"pass@1": 1.0}, err


def test_resume_keeps_done_work_and_drops_a_torn_line(tmp_path: Path) -> None:
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    ps = load_problems().select(limit=6)
    cfg = SamplingConfig(n=3, seed=5)
    sample(ps, FakeBackend("mixed"), cfg, full)
    sample(ps, FakeBackend("mixed"), cfg, part)
    lines = part.read_bytes().splitlines(keepends=True)
    part.write_bytes(b"".join(lines[:7]) + lines[7][:20])  # 7 whole lines and a torn one
    s = sample(ps, FakeBackend("mixed"), cfg, part)
    assert (s.kept, s.generated, s.samples) == (7, 11, 18)
    assert by_key(part) == by_key(full) and len(rows(part)) == 18
    s = sample(ps, FakeBackend("mixed"), cfg, part)  # complete: nothing to do
    assert (s.kept, s.generated) == (18, 0) and len(rows(part)) == 18


@pytest.mark.parametrize(
    "change,message",
    [
        ({"temperature": 0.2}, "sampling.temperature was 0.8, now 0.2"),
        ({"seed": 1}, "sampling.seed was 0, now 1"),
        ({"limit": 3}, "problem_set."),
        ({"model": "mixed"}, 'backend.model.name was "canonical", now "mixed"'),
    ],
)
def test_resume_with_other_settings_is_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    out = tmp_path / "s.jsonl"
    args = {"temperature": 0.8, "seed": 0, "limit": 2, "model": "canonical"}
    cli = lambda a: ["sample", "--backend", "fake", "--model", str(a["model"]), "--limit", str(a["limit"]),  # noqa: E731
                     "--temperature", str(a["temperature"]), "--seed", str(a["seed"]), "-o", str(out)]  # fmt: skip
    assert run(*cli(args))[0] == 0
    before = out.read_bytes()
    code, _, err = run(*cli({**args, **change}))
    line = one_error_line(code, err)
    assert "refusing to resume" in line and message in line
    assert out.read_bytes() == before


def test_output_without_manifest_or_foreign_lines_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    out.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n')
    with pytest.raises(ResumeMismatchError, match="without a manifest"):
        sample(load_problems().select(limit=1), FakeBackend(), SamplingConfig(), out)
    out2 = tmp_path / "t.jsonl"
    sample(load_problems().select(limit=2), FakeBackend(), SamplingConfig(), out2)
    out2.write_text(out2.read_text() + out2.read_text().splitlines()[0] + "\n")
    with pytest.raises(ResumeMismatchError, match="appears twice"):
        sample(load_problems().select(limit=2), FakeBackend(), SamplingConfig(), out2)


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    o = str(tmp_path / "s.jsonl")
    cases = [
        (
            ["--backend", "nope", "--model", "m"],
            "unknown backend 'nope' (choose from: fake, hf, openai, vllm)",
        ),
        (["--backend", "hf", "--model", str(tmp_path / "missing")], "no such model folder"),
        (["--backend", "hf", "--model", str(tmp_path)], "no config.json"),
        (
            ["--backend", "fake", "--model", "canonical", "--temperature", "3"],
            "temperature must be in [0, 2], got 3.0",
        ),
        (["--backend", "fake", "--model", "gpt-9"], "fake backend: unknown model 'gpt-9'"),
        (["--backend", "fake", "--model", "canonical", "--task", "HumanEval/999"], "HumanEval/999"),
    ]
    for args, message in cases:
        code, stdout, err = run("sample", *args, "--limit", "1", "-o", o)
        assert message in one_error_line(code, err) and stdout == ""


_KILL_SCRIPT = """
import sys
from humaneval_lab.problems import load_problems
from humaneval_lab.sampling import SamplingConfig, sample
from humaneval_lab.sampling.configs import FakeConfig
from humaneval_lab.sampling.fake import FakeBackend
sample(load_problems().select(limit=20), FakeBackend("mixed", delay_s=float(sys.argv[2])), SamplingConfig(n=5, seed=3), sys.argv[1])
"""


def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    out, ref = tmp_path / "killed.jsonl", tmp_path / "ref.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(out), "0.02"], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 3000):
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    written = len(out.read_bytes().splitlines())
    assert 0 < written < 100  # killed mid-run
    subprocess.run([sys.executable, "-c", _KILL_SCRIPT, str(out), "0"], check=True, timeout=60)
    subprocess.run([sys.executable, "-c", _KILL_SCRIPT, str(ref), "0"], check=True, timeout=60)
    assert len(rows(out)) == 100 and by_key(out) == by_key(ref)


def test_make_backend_registry_names_the_choices() -> None:
    with pytest.raises(UserInputError, match="unknown backend"):
        make_backend("tgi", FakeConfig("m"))
    assert isinstance(make_backend("fake", FakeConfig("mixed")), FakeBackend)
