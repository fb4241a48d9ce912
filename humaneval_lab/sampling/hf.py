"""transformers backend: batched ``generate`` with left padding, on CPU or GPU.

Sampling is reproducible per sample, whatever the batch: each row draws its randomness from its own
``torch.Generator`` seeded with the sample's seed (``_RowSampler``), and ``generate`` runs greedily
over the token it picked. So a sample does not
depend on which other samples share its batch, and a resumed run regenerates exactly what a killed one
lost. (``num_return_sequences`` would draw every row from one global stream instead; it also
duplicates the prompt per row, so expanding rows ourselves costs nothing more.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from humaneval_lab.errors import BackendUnavailableError, UserInputError
from humaneval_lab.sampling.base import Generation, SamplingConfig, WorkItem
from humaneval_lab.sampling.configs import HfConfig
from humaneval_lab.sampling.models import resolve_model

INSTALL = "pip install 'humaneval-lab[hf]'"


def _import() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the hf backend needs torch and transformers ({exc.name} is missing): {INSTALL}"
        ) from None
    return torch, transformers


def pick_device(device: str) -> str:
    torch, _ = _import()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserInputError(f"--device {device}: no CUDA device is available")
    return device


def pick_dtype(dtype: str, device: str) -> Any:
    torch, _ = _import()
    if dtype == "auto":
        # bf16 is many times slower than fp32 on CPUs without native support.
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, dtype)


_M31 = (1 << 31) - 1


def _uniforms(keys: Any, ids: Any, torch: Any) -> Any:
    """A uniform number in (0, 1) for each (row key, token id): a fixed integer hash (31-bit
    multiply-xorshift rounds, no overflow in int64), so a token's number depends on nothing else."""
    x = (ids * 2654435761 + keys) & _M31
    for _ in range(3):
        x = x ^ (x >> 16)
        x = (x * 0x45D9F3B) & _M31
    x = x ^ (x >> 16)
    return (x.double() + 0.5) / float(1 << 31)


class _RowSampler:
    """A logits processor that draws each row's next token with that row's own generator.

    Temperature, top-k and top-p shape the distribution; the token is then drawn by an exponential
    race: each kept token gets E = -log(U), U a hash of (the row's key for this step, the token id),
    and the one with the largest p / E wins (an exact draw from p). The row's generator gives one key
    per step, whatever the batch. Tying the randomness to token ids, not to ranks or positions, is
    what makes a sample independent of its batch: batched kernels change logits in the last bits,
    which reorders near-equal probabilities (a random or undertrained model has many), and an
    inverse-CDF draw over sorted probabilities would then land on another token. The race changes
    its winner only if two tokens' p / E tie to the last bit, or the winner itself sits on the edge
    of top-k/top-p. The returned scores are -inf everywhere else, so ``generate`` running greedily
    takes exactly that token. Top-p looks at the 256 likeliest tokens first and sorts the whole
    vocabulary only when a nucleus is wider.
    """

    CANDIDATES = 256

    def __init__(self, seeds: Sequence[int], config: SamplingConfig) -> None:
        import torch

        self.config = config
        self.gens = []
        for s in seeds:
            g = torch.Generator(device="cpu")
            g.manual_seed(s)
            self.gens.append(g)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        c = self.config
        logits = scores.float() / c.temperature
        vocab = logits.shape[-1]
        if c.top_k and c.top_k < vocab:
            kth = torch.topk(logits, c.top_k, dim=-1).values[..., -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = logits.softmax(dim=-1)
        if c.top_p < 1.0:
            cand_p, cand_i = self._nucleus(probs, torch)
        elif c.top_k and c.top_k < vocab:
            cand_p, cand_i = torch.topk(probs, c.top_k, dim=-1)
        else:
            cand_p, cand_i = probs, torch.arange(vocab, device=probs.device).expand_as(probs)
        keys = torch.cat([torch.randint(0, 1 << 31, (1,), generator=g) for g in self.gens])
        race = -torch.log(_uniforms(keys.to(probs.device).unsqueeze(1), cand_i, torch))
        pick = (cand_p.double() / race).argmax(dim=-1, keepdim=True)
        return scores.fill_(float("-inf")).scatter_(-1, cand_i.gather(-1, pick), 0.0)

    def _nucleus(self, probs: Any, torch: Any) -> tuple[Any, Any]:
        """Each row's top-p nucleus: (probabilities, token ids), likeliest first, 0 outside it."""
        c, vocab = self.config, probs.shape[-1]
        cand_p, cand_i = torch.topk(probs, min(self.CANDIDATES, vocab), dim=-1)
        if (cand_p.sum(dim=-1) < c.top_p).any():  # a nucleus wider than the candidates: sort them all
            cand_p, cand_i = torch.sort(probs, dim=-1, descending=True)
        # Keep a token while the likelier ones before it hold less than top_p (at least one).
        return cand_p.masked_fill((cand_p.cumsum(dim=-1) - cand_p) >= c.top_p, 0.0), cand_i


class HFBackend:
    name = "hf"

    def __init__(self, engine: HfConfig) -> None:
        self.engine = engine
        _import()
        self.path, self.identity = resolve_model(engine.model)
        self.device = pick_device(engine.device)
        self.dtype = pick_dtype(engine.dtype, self.device)
        self.model: Any = None
        self.tokenizer: Any = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.identity, "dtype": str(self.dtype).removeprefix("torch."),
                "device_type": self.device.split(":")[0]}  # fmt: skip

    def load(self) -> None:
        if self.model is not None:
            return
        torch, transformers = _import()
        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        try:
            tok = transformers.AutoTokenizer.from_pretrained(self.path)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.path, dtype=self.dtype)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserInputError(f"cannot load model {self.engine.model!r}: {first}") from None
        tok.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        self.tokenizer, self.model = tok, model.to(self.device).eval()

    def _prompt_ids(self, item: WorkItem) -> list[int]:
        tok = self.tokenizer
        if item.messages is not None:
            if not getattr(tok, "chat_template", None):
                raise UserInputError(
                    f"model {self.engine.model!r} has no chat template; use --prompt-mode raw"
                )
            ids = tok.apply_chat_template(list(item.messages), add_generation_prompt=True, tokenize=True)
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return list(ids)
        return list(tok(item.prompt)["input_ids"])

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        self.load()
        torch, _ = _import()
        rows: list[tuple[list[int], WorkItem, int, int]] = []  # (prompt ids, item, index, seed)
        for item in items:
            ids = self._prompt_ids(item)
            rows.extend((ids, item, i, s) for i, s in zip(item.indices, item.seeds, strict=True))
        # Similar lengths together: less padding. Stable, so the order is the same on every run.
        rows.sort(key=lambda r: len(r[0]))
        bs = self.engine.batch_size
        for start in range(0, len(rows), bs):
            yield from self._batch(rows[start : start + bs], config, torch)

    def _batch(self, rows: list[Any], config: SamplingConfig, torch: Any) -> Iterator[Generation]:
        tok, model = self.tokenizer, self.model
        width = max(len(r[0]) for r in rows)
        pad = tok.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(r[0])) + r[0] for r in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(r[0])) + [1] * len(r[0]) for r in rows], device=self.device)
        stops = sorted({s for r in rows for s in r[1].stops})
        from transformers import GenerationConfig, LogitsProcessorList

        # Only the model's special tokens are kept from its shipped generation defaults: its own
        # sampling settings (temperature, top_p, repetition penalty) must not override ours.
        shipped = model.generation_config
        gen_config = GenerationConfig(  # type: ignore[no-untyped-call]
            bos_token_id=shipped.bos_token_id, eos_token_id=shipped.eos_token_id if shipped.eos_token_id is not None
            else tok.eos_token_id, pad_token_id=pad, max_new_tokens=config.max_new_tokens, do_sample=False,
        )  # fmt: skip
        kwargs: dict[str, Any] = {}
        if stops:
            gen_config.stop_strings = stops
            kwargs["tokenizer"] = tok
        if not config.greedy:
            kwargs["logits_processor"] = LogitsProcessorList([_RowSampler([r[3] for r in rows], config)])
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids, attention_mask=mask, generation_config=gen_config, **kwargs
            )
        new = out[:, width:].tolist()
        eos = gen_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {pad}
        for r, ids in zip(rows, new, strict=True):
            n = len(ids)
            while n and ids[n - 1] == pad and (n == len(ids) or ids[n] == pad):
                n -= 1  # finished rows are padded to the batch's length
            ended = next((j for j, t in enumerate(ids[:n]) if t in eos_ids), None)
            body = ids[:ended] if ended is not None else ids[:n]
            text = tok.decode(body, skip_special_tokens=True)
            if ended is not None or n < config.max_new_tokens:
                reason = "stop"
            else:
                reason = "length"
            yield Generation(r[1].task_id, r[2], text, reason, len(body) + (1 if ended is not None else 0))

    def close(self) -> None:
        self.model = None


def from_config(engine: HfConfig) -> HFBackend:
    return HFBackend(engine)
