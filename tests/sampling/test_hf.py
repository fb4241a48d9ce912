"""The transformers backend on a real (tiny, random) GPT-2 built by a fixture, on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.problems import load_problems
from humaneval_lab.sampling import EngineConfig, SamplingConfig, manifest_path, sample
from humaneval_lab.sampling.hf import HFBackend
from tests.cli_helpers import run

from .helpers import by_key, rows
from .tiny import build_overfit_gpt2


def test_cli_samples_with_a_tiny_model(tiny_gpt2: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    code, _, err = run("sample", "--backend", "hf", "--model", str(tiny_gpt2), "--limit", "3", "-n", "3",
                       "--max-new-tokens", "24", "--temperature", "1.0", "-o", str(out))  # fmt: skip
    assert code == 0, err
    recs = rows(out)
    assert len(recs) == 9 and len(by_key(out)) == 9
    for r in recs:
        assert r["raw"].startswith(r["completion"]) and 0 < r["tokens"] <= 24
        assert r["finish_reason"] in ("stop", "length")
    # Different seeds, different samples (the model is random, not constant).
    assert len({r["raw"] for r in recs}) > 3
    m = json.loads(manifest_path(out).read_text())
    assert (
        m["backend"]["model"]["path"] == str(tiny_gpt2.resolve())
        and len(m["backend"]["model"]["sha256"]) == 64
    )
    assert m["backend"]["dtype"] == "float32" and "torch" in m["versions"]


def test_samples_do_not_depend_on_batching_and_resume_regenerates_them(
    tiny_gpt2: Path, tmp_path: Path
) -> None:
    ps = load_problems().select(limit=4)
    cfg = SamplingConfig(n=3, temperature=1.0, top_p=0.9, top_k=50, max_new_tokens=16, seed=11)
    one = HFBackend(EngineConfig(str(tiny_gpt2), batch_size=1))
    many = HFBackend(EngineConfig(str(tiny_gpt2), batch_size=12))
    sample(ps, one, cfg, tmp_path / "a.jsonl")
    sample(ps, many, cfg, tmp_path / "b.jsonl")
    a, b = by_key(tmp_path / "a.jsonl"), by_key(tmp_path / "b.jsonl")
    assert a == b
    part = tmp_path / "b.jsonl"
    part.write_text("".join(x + "\n" for x in part.read_text().splitlines()[:5]))
    s = sample(ps, many, cfg, part)
    assert (s.kept, s.generated) == (5, 7) and by_key(part) == a


def test_greedy_is_deterministic(tiny_gpt2: Path, tmp_path: Path) -> None:
    ps = load_problems().select(limit=2)
    cfg = SamplingConfig(n=2, temperature=0.0, max_new_tokens=16)
    be = HFBackend(EngineConfig(str(tiny_gpt2), batch_size=4))
    sample(ps, be, cfg, tmp_path / "g.jsonl")
    recs = by_key(tmp_path / "g.jsonl")
    for p in ps:
        assert recs[(p.task_id, 0)]["raw"] == recs[(p.task_id, 1)]["raw"]


@pytest.mark.slow
def test_overfit_model_passes_k_of_k_end_to_end(tmp_path: Path) -> None:
    """sample (greedy) -> score: a model trained to emit the canonical solutions passes them all."""
    ps = load_problems().select(limit=4)
    model = build_overfit_gpt2(tmp_path / "overfit", list(ps))
    out = tmp_path / "s.jsonl"
    code, _, err = run("sample", "--backend", "hf", "--model", str(model), "--limit", "4", "--temperature", "0",
                       "--max-new-tokens", "200", "-o", str(out))  # fmt: skip
    assert code == 0, err
    for r in rows(out):
        assert r["completion"].strip() == ps.get(r["task_id"]).canonical_solution.strip()  # type: ignore[union-attr]
    code, stdout, err = run("score", str(out), "--limit", "4", "--sandbox", "local", "-k", "1", "-o",
                            str(tmp_path / "score"), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["pass@k"] == {"pass@1": 1.0}
