"""Tiny real models for tests: a random GPT-2 with a BPE tokenizer trained on HumanEval's prompts,
and the same GPT-2 overfit on K canonical solutions so that greedy decoding passes K of K."""

from __future__ import annotations

from pathlib import Path

from humaneval_lab.problems import Problem, load_problems


def build_tokenizer(texts: list[str]) -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, min_frequency=2, special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    tk.train_from_iterator(texts, trainer)
    eot = "<|endoftext|>"
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token=eot, eos_token=eot, pad_token=eot, unk_token=eot
    )


def build_random_gpt2(folder: Path) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = build_tokenizer([p.prompt for p in load_problems()])
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(tok), n_embd=64, n_layer=2, n_head=2, n_inner=256, n_positions=2048,  # type: ignore[arg-type]
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)  # type: ignore[attr-defined]  # fmt: skip
    model = GPT2LMHeadModel(cfg)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)  # type: ignore[attr-defined]
    for p in folder.iterdir():
        p.chmod(0o644)
    return folder


def build_overfit_gpt2(folder: Path, problems: list[Problem], steps: int = 80) -> Path:
    """GPT-2 trained on tokenize(prompt) + tokenize(solution) + eos for each problem, until greedy
    decoding reproduces the canonical solutions. Prompt and solution are tokenized separately: the
    joined text tokenizes differently at the seam and did not reproduce the solution."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    everything = list(load_problems())
    tok = build_tokenizer([p.prompt + (p.canonical_solution or "") for p in everything])
    torch.manual_seed(0)
    eos = tok.eos_token_id  # type: ignore[attr-defined]
    cfg = GPT2Config(vocab_size=len(tok), n_embd=64, n_layer=2, n_head=2, n_inner=256, n_positions=2048,  # type: ignore[arg-type]
                     bos_token_id=eos, eos_token_id=eos)  # fmt: skip
    model = GPT2LMHeadModel(cfg)
    seqs = [tok(p.prompt)["input_ids"] + tok(p.canonical_solution)["input_ids"] + [eos] for p in problems]  # type: ignore[operator]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        for s in seqs:
            ids = torch.tensor([s])
            loss = model(input_ids=ids, labels=ids).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)  # type: ignore[attr-defined]
    for p in folder.iterdir():
        p.chmod(0o644)
    return folder
