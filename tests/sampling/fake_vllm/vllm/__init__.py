"""A stand-in vLLM (see ../README.md): records the batch-invariant setting its process had."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__version__ = "0.0+fake"

_AT_IMPORT = os.environ.get("VLLM_BATCH_INVARIANT")


def _record(**what: Any) -> None:
    folder = os.environ.get("FAKE_VLLM_RECORD")
    if folder:
        path = Path(folder) / f"{os.getpid()}.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**old, **what}))


_record(at_import=_AT_IMPORT)


class SamplingParams:
    def __init__(self, **kw: Any) -> None:
        self.seed = kw.get("seed")
        self.max_tokens = kw.get("max_tokens")


class _Completion:
    def __init__(self, text: str) -> None:
        self.text, self.finish_reason, self.token_ids = text, "length", [0, 1, 2]


class _Output:
    def __init__(self, text: str) -> None:
        self.outputs = [_Completion(text)]


class LLM:
    def __init__(self, **kwargs: Any) -> None:
        _record(at_engine=os.environ.get("VLLM_BATCH_INVARIANT"), engine_kwargs=sorted(kwargs))

    def generate(
        self, prompts: list[Any], params: list[SamplingParams], use_tqdm: bool = False
    ) -> list[_Output]:
        return [_Output(f"    return {p.seed}\n") for p in params]
