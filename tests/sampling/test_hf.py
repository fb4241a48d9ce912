"""The transformers backend on a real (tiny, random) GPT-2 built by a fixture, on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.problems import load_problems
from humaneval_lab.sampling import HfConfig, SamplingConfig, manifest_path, sample
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
    one = HFBackend(HfConfig(str(tiny_gpt2), batch_size=1))
    many = HFBackend(HfConfig(str(tiny_gpt2), batch_size=12))
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
    be = HFBackend(HfConfig(str(tiny_gpt2), batch_size=4))
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


def _draw(seeds: list[int], logits: list[list[float]], **settings: float) -> list[int]:
    import torch

    from humaneval_lab.sampling.hf import _RowSampler

    cfg = SamplingConfig(n=1, max_new_tokens=1, **settings)  # type: ignore[arg-type]
    out = _RowSampler(seeds, cfg)(None, torch.tensor(logits, dtype=torch.float32))
    return [int(t) for t in out.argmax(dim=-1)]


def test_the_row_sampler_draws_from_the_shaped_distribution() -> None:
    import math

    p = [0.5, 0.3, 0.15, 0.05]
    n = 6000
    tokens = _draw(list(range(n)), [[math.log(x) for x in p]] * n, temperature=1.0, top_p=0.9)
    freq = [tokens.count(i) / n for i in range(4)]
    kept = [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0.0]  # top-p 0.9 keeps the first three tokens
    assert all(abs(f - q) < 0.03 for f, q in zip(freq, kept, strict=True)), freq


def test_a_rows_token_survives_last_bit_noise_and_other_rows() -> None:
    """Batched kernels change logits in the last bits and put other rows beside a sample: near-equal
    probabilities (a random model has many) must not make its seed pick another token."""
    import random

    rng = random.Random(0)
    base = [rng.sample([1.0] * 250 + [0.0] * 250, 500) for _ in range(64)]  # two classes of exact ties
    noisy = [[x + rng.choice((-1, 1)) * 1e-6 for x in row] for row in base]  # ties broken, either way
    seeds = [rng.randrange(2**63) for _ in base]
    # top-p just under the upper class's mass (e/(e+1)): the nucleus is that class, noise or not
    top_p = 0.7296
    alone = [
        _draw([s], [row], temperature=1.0, top_k=0, top_p=top_p)[0]
        for s, row in zip(seeds, base, strict=True)
    ]
    batched = _draw(seeds[::-1], noisy[::-1], temperature=1.0, top_k=0, top_p=top_p)[::-1]
    assert all(base[i][t] == 1.0 for i, t in enumerate(alone))  # drawn from the nucleus only
    assert batched == alone
