"""Framing and sealing, the one copy of each: the host<->runner stream and the runner's own sockets.

- The host<->runner stream (both ways) is lines ``<mac> <json>``: the mac is HMAC-SHA256 (first
  ``MAC_HEX`` hex digits) of the json under a per-container key the host sends before any job. No
  sample can reach the stream (other uids), and a line without the right mac is tampering: the runner
  ends, the host declares the container dead and re-runs its jobs elsewhere.
- The runner and its warm testers speak length-prefixed frames (4 bytes little-endian, then the
  payload); file descriptors ride on a frame's first bytes (SCM_RIGHTS).

Standard library only: this module runs in the container and is imported by the host.
"""

from __future__ import annotations

import hmac
import json
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

MAC_HEX = 32
HEAD = struct.Struct("<I")


def mac_of(key: bytes, body: bytes) -> bytes:
    return hmac.digest(key, body, "sha256").hex()[:MAC_HEX].encode()


def seal(key: bytes, obj: dict[str, Any]) -> bytes:
    """One sealed line (with its newline) carrying ``obj``."""
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return mac_of(key, body) + b" " + body + b"\n"


def unseal(key: bytes, line: bytes) -> Any:
    """The message of a sealed line; ValueError when its mac is wrong (or its body is not JSON)."""
    mac, _, body = line.rstrip(b"\n").partition(b" ")
    if not hmac.compare_digest(mac, mac_of(key, body)):
        raise ValueError("bad mac")
    return json.loads(body)


def read_exact(recv: Callable[[int], bytes], n: int) -> bytes:
    """Exactly ``n`` bytes from ``recv`` (a socket's recv, a file's read); EOFError if it ends first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def write_frame(sock: socket.socket, payload: bytes, fds: list[int] | None = None) -> None:
    """One frame; ``fds`` ride on its head."""
    head = HEAD.pack(len(payload))
    if fds:
        socket.send_fds(sock, [head], fds)
        sock.sendall(payload)
    else:
        sock.sendall(head + payload)


def read_frame(sock: socket.socket, maxfds: int = 0, limit: int = 1 << 30) -> tuple[bytes, list[int]]:
    """One frame and the fds that came with it; EOFError at the end, ValueError past ``limit``."""
    head, fds = b"", []
    while len(head) < HEAD.size:
        data, got, _, _ = socket.recv_fds(sock, HEAD.size - len(head), maxfds)
        fds += got
        if not data:
            for fd in fds:
                os.close(fd)
            raise EOFError
        head += data
    (n,) = HEAD.unpack(head)
    if n > limit:
        raise ValueError(f"frame of {n} bytes, more than {limit}")
    return read_exact(sock.recv, n), fds
