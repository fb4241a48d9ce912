"""OpenAI-compatible servers (vLLM serve, TGI, llama.cpp, ...) through ``/v1/completions``.

Standard library only (urllib and threads): requests run with bounded concurrency, each asking for
``n`` samples of one or more prompts; 429 and 5xx answers and dropped connections are retried with
exponential backoff and jitter (honouring ``Retry-After``). ``choices`` come back indexed
``prompt_index * n + sample_index``. Chat mode posts to ``/v1/chat/completions`` instead.

Seeds: a request carries the seed of its first sample; servers derive the rest of its n samples
themselves. Use ``samples_per_request=1`` for one seed per sample (exactly reproducible resumes on
servers that honour seeds), at the cost of more requests.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from email.message import Message
from typing import Any

from humaneval_lab.errors import BackendUnavailableError, InfrastructureError, UserInputError
from humaneval_lab.sampling.base import Generation, SamplingConfig, WorkItem
from humaneval_lab.sampling.configs import OpenAIConfig
from humaneval_lab.sampling.truncate import valid_text

MAX_SERVER_STOPS = 4  # the OpenAI API and TGI refuse more; the harness applies the rest itself


class ServerError(InfrastructureError):
    """The server kept failing, or answered something that is not a completion."""


@dataclass(frozen=True)
class _Request:
    items: tuple[WorkItem, ...]
    picks: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # per item: (indices, seeds)


def check_base_url(url: str | None) -> str:
    if not url:
        raise UserInputError("the openai backend needs --base-url, e.g. http://127.0.0.1:8000/v1")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserInputError(f"--base-url must be an http(s) URL like http://127.0.0.1:8000/v1, got {url!r}")
    return url.rstrip("/")


class OpenAIBackend:
    name = "openai"

    def __init__(self, engine: OpenAIConfig) -> None:
        self.engine = engine
        self.base_url = check_base_url(engine.base_url)
        self._checked = False

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": {"served_name": self.engine.model, "base_url": self.base_url},
                "samples_per_request": self.engine.samples_per_request}  # fmt: skip

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if self.engine.api_key:
            h["Authorization"] = f"Bearer {self.engine.api_key}"
        return h

    def check_reachable(self) -> None:
        """Fail fast, with one line, when nothing listens at the base URL."""
        req = urllib.request.Request(self.base_url + "/models", headers=self._headers())
        try:
            with urllib.request.urlopen(req, timeout=10):
                pass
        except urllib.error.HTTPError:
            pass  # something answered: some servers have no /models
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendUnavailableError(f"cannot reach the server at {self.base_url}: {reason}") from None
        self._checked = True

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        delay = 0.5
        last = ""
        for attempt in range(self.engine.max_retries + 1):
            req = urllib.request.Request(
                self.base_url + path, data=data, headers=self._headers(), method="POST"
            )
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(req, timeout=self.engine.request_timeout_s) as resp:
                    raw = resp.read()
                try:
                    out = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise ServerError(f"{self.base_url}{path} answered something that is not JSON") from None
                if not isinstance(out, dict):
                    raise ServerError(f"{self.base_url}{path} answered JSON that is not an object")
                return out
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:300].decode("utf-8", "replace").replace("\n", " ")
                if exc.code != 429 and exc.code < 500:
                    raise UserInputError(
                        f"the server refused the request: HTTP {exc.code}: {detail}"
                    ) from None
                last = f"HTTP {exc.code}: {detail}"
                retry_after = _retry_after(exc.headers)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                last = str(getattr(exc, "reason", exc))
            if attempt < self.engine.max_retries:
                wait_s = retry_after if retry_after is not None else delay * (1 + random.random())
                time.sleep(min(wait_s, 60.0))
                delay = min(delay * 2, 30.0)
        raise ServerError(f"{self.base_url}{path} failed {self.engine.max_retries + 1} times; last: {last}")

    def _requests(self, items: Iterable[WorkItem]) -> list[_Request]:
        per = self.engine.samples_per_request
        chunks: list[tuple[WorkItem, tuple[int, ...], tuple[int, ...]]] = []
        for it in items:
            step = per or len(it.indices)
            for s in range(0, len(it.indices), step):
                chunks.append((it, it.indices[s : s + step], it.seeds[s : s + step]))
        # Prompts with the same n share a request (chat requests carry one conversation each).
        out: list[_Request] = []
        batch = 1 if any(c[0].messages is not None for c in chunks) else self.engine.prompts_per_request
        group: list[tuple[WorkItem, tuple[int, ...], tuple[int, ...]]] = []
        for c in chunks:
            if group and (len(group) == batch or len(c[1]) != len(group[0][1])):
                out.append(_Request(tuple(g[0] for g in group), tuple((g[1], g[2]) for g in group)))
                group = []
            group.append(c)
        if group:
            out.append(_Request(tuple(g[0] for g in group), tuple((g[1], g[2]) for g in group)))
        return out

    def _run(self, r: _Request, config: SamplingConfig) -> list[Generation]:
        n = len(r.picks[0][0])
        body: dict[str, Any] = {
            "model": self.engine.model, "n": n, "max_tokens": config.max_new_tokens,
            "temperature": config.temperature, "top_p": config.top_p, "seed": r.picks[0][1][0],
        }  # fmt: skip
        if config.top_k:
            body["top_k"] = config.top_k
        chat = r.items[0].messages is not None
        if chat:
            body["messages"] = list(r.items[0].messages or ())
            out = self._post("/chat/completions", body)
        else:
            body["prompt"] = [it.prompt for it in r.items] if len(r.items) > 1 else r.items[0].prompt
            stops = list(dict.fromkeys(s for it in r.items for s in it.stops))[:MAX_SERVER_STOPS]
            if stops:
                body["stop"] = stops
            out = self._post("/completions", body)
        choices = out.get("choices")
        if not isinstance(choices, list) or len(choices) != n * len(r.items):
            got = len(choices) if isinstance(choices, list) else "no"
            raise ServerError(f"asked for {n * len(r.items)} completions, the server returned {got} choices")
        gens = []
        for pos, ch in enumerate(sorted(choices, key=lambda c: c.get("index", 0))):
            if not isinstance(ch, dict):
                raise ServerError("the server returned a choice that is not an object")
            text = ch.get("message", {}).get("content") if chat else ch.get("text")
            if not isinstance(text, str):
                raise ServerError("the server returned a choice without text")
            p, s = divmod(pos, n)
            item, (indices, _) = r.items[p], r.picks[p]
            reason = ch.get("finish_reason") or "stop"
            gens.append(Generation(item.task_id, indices[s], valid_text(text), str(reason), 0))
        usage = out.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int) and gens:
            total = usage["completion_tokens"]  # only a total per request: spread it evenly
            for i, g in enumerate(gens):
                share = total // len(gens) + (1 if i < total % len(gens) else 0)
                gens[i] = Generation(g.task_id, g.index, g.text, g.finish_reason, share)
        return gens

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        if not self._checked:
            self.check_reachable()
        requests = self._requests(items)
        with ThreadPoolExecutor(self.engine.concurrency, thread_name_prefix="hel-openai") as pool:
            queue = iter(requests)
            running: set[Future[list[Generation]]] = set()
            try:
                for r in queue:
                    running.add(pool.submit(self._run, r, config))
                    if len(running) >= self.engine.concurrency * 2:
                        break
                while running:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for f in finished:
                        yield from f.result()
                        nxt = next(queue, None)
                        if nxt is not None:
                            running.add(pool.submit(self._run, nxt, config))
            finally:
                for f in running:
                    f.cancel()

    def close(self) -> None:
        pass


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def from_config(engine: OpenAIConfig) -> OpenAIBackend:
    return OpenAIBackend(engine)
