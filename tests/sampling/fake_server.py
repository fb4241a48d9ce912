"""A real HTTP server implementing the parts of the OpenAI API the sampler uses, on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    """Answers /v1/completions with text derived from (prompt, seed, sample index).

    ``fail_first`` status codes are answered, in order, before any success (429/500 to test retries).
    Every request body is recorded in ``requests``.
    """

    def __init__(self, fail_first: list[int] | None = None, broken: bool = False) -> None:
        self.fail_first = list(fail_first or [])
        self.broken = broken
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._send(200, {"data": [{"id": "m"}]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.requests.append(body)
                    fail = outer.fail_first.pop(0) if outer.fail_first else None
                if fail is not None:
                    self._send(fail, {"error": {"message": f"synthetic {fail}"}}, {"Retry-After": "0"})
                    return
                if self.path != "/v1/completions":
                    self._send(404, {"error": "not found"})
                    return
                if body.get("model") != "m":
                    self._send(400, {"error": {"message": f"model {body.get('model')} does not exist"}})
                    return
                prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                n = body.get("n", 1)
                choices = []
                for pi, prompt in enumerate(prompts):
                    for si in range(n):
                        text = f"    return {len(prompt)} + {si}\n\nprint('after stop')\n"
                        if outer.broken:
                            # A lone surrogate escape: legal JSON, not encodable as UTF-8.
                            text = "    return 1  # \ud800 broken\n"
                        choices.append({"index": pi * n + si, "text": text, "finish_reason": "stop"})
                choices.reverse()  # the index, not the order, says which is which
                payload = {"choices": choices, "usage": {"completion_tokens": 7 * len(choices)}}
                self._send(200, json.dumps(payload).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
