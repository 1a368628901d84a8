"""Length-prefixed frames of plain data between the grader and the worker.

A frame is ``torch.save`` bytes. The grader loads them with
``weights_only=True``, so only tensors, numbers, strings and containers cross:
never a pickle that could run code.
"""
from __future__ import annotations

import io
import os
import select
import struct
import time
from typing import Any

MAX_FRAME = 512 * 2**20
HELLO = b"H"  # a new worker's first byte, before any frame: its credentials tell the grader its pid
_HEADER = struct.Struct("!Q")


class WireError(Exception):
    """The other side sent something that is not a valid frame."""


class Closed(WireError):
    """The other side closed the pipe (it exited or crashed)."""


class TimedOut(WireError):
    """No complete frame arrived before the deadline."""


def dumps(obj: Any) -> bytes:
    import torch  # here, so that the grader can start the sandbox before it imports torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def loads(data: bytes) -> Any:
    import torch

    try:
        return torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:  # a refused type, a truncated file, a subclass
        raise WireError(f"a frame that is not plain data ({type(exc).__name__})") from None


def send(fd: int, obj: Any) -> None:
    data = dumps(obj)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimedOut(f"no answer within the time limit ({got} of {n} bytes)")
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise Closed("the other side closed the pipe")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(fd: int, deadline: float | None = None, limit: int = MAX_FRAME) -> Any:
    """Read one frame; ``deadline`` is a ``time.monotonic()`` instant."""
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if size > limit:
        raise WireError(f"frame of {size} bytes is over the {limit}-byte limit")
    return loads(_read_exact(fd, size, deadline))
