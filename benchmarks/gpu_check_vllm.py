"""GPU check (not run in CI): our vllm backend vs calling ``LLM.generate`` directly, same engine.

Run on a CUDA machine with vllm installed:

    python benchmarks/gpu_check_vllm.py --model /path/to/model [--problems 164] [-n 20] [--tokens 512]

Both sides submit every prompt at once with the same sampling settings to one shared ``LLM``; the
reference uses one request per prompt with ``n`` (the engine's own fan-out), ours one request per
sample with its own seed, yielded as they finish and written to JSONL. Prints the ratio of tokens/s;
target: at most 2% overhead. Each side runs twice, interleaved; the faster run counts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--problems", type=int, default=164)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--temperature", type=float, default=0.8)
    args = ap.parse_args()

    from vllm import SamplingParams

    from humaneval_lab.languages import get_language
    from humaneval_lab.problems import load_problems
    from humaneval_lab.sampling import SamplingConfig, VllmConfig, sample
    from humaneval_lab.sampling.vllm import VLLMBackend

    ps = load_problems().select(limit=args.problems)
    backend = VLLMBackend(VllmConfig(args.model))
    llm = backend.load()
    stops = list(get_language("python").stop_sequences)

    def reference() -> tuple[float, int]:
        params = SamplingParams(n=args.n, temperature=args.temperature, top_p=0.95, max_tokens=args.tokens,
                                seed=0, stop=stops)  # fmt: skip
        started = time.perf_counter()
        outs = llm.generate([p.prompt for p in ps], params, use_tqdm=False)
        return time.perf_counter() - started, sum(len(c.token_ids) for o in outs for c in o.outputs)

    def ours() -> tuple[float, int]:
        cfg = SamplingConfig(n=args.n, temperature=args.temperature, top_p=0.95, max_new_tokens=args.tokens)
        with tempfile.TemporaryDirectory() as d:
            started = time.perf_counter()
            s = sample(ps, backend, cfg, Path(d) / "s.jsonl")
            return time.perf_counter() - started, s.tokens

    reference()  # warm-up (CUDA graphs, allocator)
    runs = [(reference(), ours()) for _ in range(2)]
    ref_tps = max(tok / t for (t, tok), _ in runs)
    our_tps = max(tok / t for _, (t, tok) in runs)
    ratio = ref_tps / our_tps
    print(f"vllm: LLM.generate {ref_tps:.0f} tokens/s, sample {our_tps:.0f} tokens/s; overhead ratio {ratio:.3f} "
          + ("ok" if ratio <= 1.02 else "OVER the 2% target"))  # fmt: skip


if __name__ == "__main__":
    main()
