"""Overhead of ``sample --backend hf`` over a plain loop of ``model.generate``, measured in one run.

Same model, prompts, batches (rows sorted by prompt length, left padding), stop strings and token
budget. Greedy: both produce the same tokens, so the wall-clock ratio is the overhead. Sampled: the
random streams differ (ours draws per row from the sample's seed), so tokens/s are compared.
Each side runs twice, interleaved, and the faster of its two runs counts. Target: at most 10%.

    python benchmarks/bench_sampler.py [--model smollm2-135m] [--problems 8] [-n 2] [--tokens 64]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--problems", type=int, default=8)
    ap.add_argument("-n", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    import torch

    from humaneval_lab.languages import get_language
    from humaneval_lab.problems import load_problems
    from humaneval_lab.sampling import HfConfig, SamplingConfig, sample
    from humaneval_lab.sampling.hf import HFBackend

    ps = load_problems().select(limit=args.problems)
    backend = HFBackend(HfConfig(args.model, batch_size=args.batch_size))
    backend.load()
    model, tok = backend.model, backend.tokenizer
    stops = list(get_language("python").stop_sequences)

    def reference(temperature: float) -> tuple[float, int]:
        rows = sorted((tok(p.prompt)["input_ids"] for p in ps for _ in range(args.n)), key=len)
        started, tokens = time.perf_counter(), 0
        for s in range(0, len(rows), args.batch_size):
            batch = rows[s : s + args.batch_size]
            w = max(map(len, batch))
            ids = torch.tensor([[tok.pad_token_id] * (w - len(r)) + r for r in batch])
            mask = torch.tensor([[0] * (w - len(r)) + [1] * len(r) for r in batch])
            kw = (
                {"do_sample": True, "temperature": temperature, "top_p": 0.95}
                if temperature
                else {"do_sample": False}
            )
            with torch.inference_mode():
                out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.tokens,
                                     pad_token_id=tok.pad_token_id, stop_strings=stops, tokenizer=tok, **kw)  # fmt: skip
            tokens += int((out[:, w:] != tok.pad_token_id).sum())
        return time.perf_counter() - started, tokens

    def ours(temperature: float) -> tuple[float, int]:
        cfg = SamplingConfig(n=args.n, temperature=temperature, top_p=0.95, max_new_tokens=args.tokens)
        with tempfile.TemporaryDirectory() as d:
            started = time.perf_counter()
            s = sample(ps, backend, cfg, Path(d) / "s.jsonl")
            return time.perf_counter() - started, s.tokens

    reference(0.0)  # warm-up: first calls pay for allocations and kernel selection
    for temperature in (0.0, 0.8):
        ref_runs, our_runs = [], []
        for _ in range(2):
            ref_runs.append(reference(temperature))
            our_runs.append(ours(temperature))
        ref_t, ref_tok = min(ref_runs)
        our_t, our_tok = min(our_runs)
        if temperature == 0.0:
            ratio = our_t / ref_t
            what = f"wall clock {our_t:.2f} s vs {ref_t:.2f} s ({our_tok} vs {ref_tok} tokens)"
        else:
            ratio = (ref_tok / ref_t) / (our_tok / our_t)
            what = f"{our_tok / our_t:.1f} vs {ref_tok / ref_t:.1f} tokens/s"
        verdict = "ok" if ratio <= 1.10 else "OVER the 10% target"
        print(f"temperature {temperature}: sample/generate overhead ratio {ratio:.3f} ({what}) {verdict}")


if __name__ == "__main__":
    main()
