"""A deterministic fake backend that ships with the package, for tests and pipeline checks.

``--backend fake --model MODE`` where MODE is one of:

- ``canonical``: the problem's canonical solution, then junk that stop sequences must cut off;
- ``mixed``: the canonical solution or a wrong body, chosen by the sample's seed (a pass rate
  strictly between 0 and 1 that is identical on every run);
- ``bytes``: broken UTF-8 and lone surrogates, which must still reach the file as valid JSON;
- ``chat``: a prose reply with the canonical solution as a whole function in a fenced block.

Output depends only on (mode, task, seed), never on batching or order, so a resumed run equals an
uninterrupted one byte for byte.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from typing import Any

from humaneval_lab.errors import UserInputError
from humaneval_lab.sampling.base import Generation, SamplingConfig, WorkItem
from humaneval_lab.sampling.configs import FakeConfig
from humaneval_lab.sampling.truncate import decode_bytes

MODES = ("canonical", "mixed", "bytes", "chat")


class FakeBackend:
    name = "fake"

    def __init__(self, mode: str = "canonical", *, delay_s: float = 0.0) -> None:
        if mode not in MODES:
            raise UserInputError(f"fake backend: unknown model {mode!r} (choose from: {', '.join(MODES)})")
        self.mode = mode
        self.delay_s = delay_s

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": {"name": self.mode}}

    def _text(self, item: WorkItem, seed: int) -> str:
        p = item.problem
        solution = p.canonical_solution or "    pass\n"
        rng = random.Random(seed)
        if self.mode == "canonical":
            return solution + "\nif __name__ == '__main__':\n    print('junk after a stop')\n"
        if self.mode == "mixed":
            return solution if rng.random() < 0.5 else "    return None\n"
        if self.mode == "bytes":
            junk = bytes(rng.randrange(256) for _ in range(24))
            return "    # " + decode_bytes(b"\xff\xfe" + junk) + "\ud800\udfff\udc00 \x00\n" + solution
        header = p.prompt.rstrip().rsplit('"""', 2)[0].rstrip() if '"""' in p.prompt else p.prompt
        return f"Here is the function:\n\n```{p.language}\n{header}\n{solution}```\n\nIt works because..."

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        for item in items:
            for index, seed in zip(item.indices, item.seeds, strict=True):
                if self.delay_s:
                    time.sleep(self.delay_s)
                text = self._text(item, seed)
                if len(text) > config.max_new_tokens * 8:  # a crude "length" limit, deterministic
                    yield Generation(
                        item.task_id,
                        index,
                        text[: config.max_new_tokens * 8],
                        "length",
                        config.max_new_tokens,
                    )
                else:
                    yield Generation(item.task_id, index, text, "stop", len(text.split()))

    def close(self) -> None:
        pass


def from_config(engine: FakeConfig) -> FakeBackend:
    return FakeBackend(engine.model, delay_s=engine.delay_s)
