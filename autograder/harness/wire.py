"""Length-prefixed frames of plain data between the grader and the worker.

A frame is a header (the data's size and a token) and ``torch.save`` bytes.
The grader loads them with ``weights_only=True``, so only tensors, numbers,
strings and containers cross: never a pickle that could run code. Each request
carries a fresh random token that its reply repeats: a frame that student code
wrote into the reply channel, or a reply left over from an earlier request,
is told apart from the answer before its data is read. Replies are bounded
before they are decoded: in size, and in the size of their pickle, which
weights_only unpickles in Python (about a second per MiB at worst).
"""
from __future__ import annotations

import io
import os
import select
import struct
import time
from collections.abc import Container
from typing import Any

MAX_FRAME = 512 * 2**20
MAX_PICKLE = 2**20      # a reply's pickle, beside its tensors' data; an honest one stays far below (values.export)
HELLO = b"H"  # a new worker's first byte, before any frame: its credentials tell the grader its pid
KEEPER = 0    # the token of the keeper's last frame, which answers no request (zygote._keeper)
_HEADER = struct.Struct("!QQ")


class WireError(Exception):
    """The other side sent something that is not a valid frame."""


class Closed(WireError):
    """The other side closed the pipe (it exited or crashed)."""


class TimedOut(WireError):
    """No complete frame arrived before the deadline."""


class Stray(WireError):
    """A frame whose token answers another request than the one awaited; its data was not read."""

    def __init__(self, token: int):
        super().__init__("a frame that answers another request")
        self.token = token


class TooLarge(WireError):
    """A frame whose structure is over the limit: the other side would refuse it, so it is not sent."""


def dumps(obj: Any) -> bytes:
    import torch  # here, so that the grader can start the sandbox before it imports torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _pickled(data: bytes) -> int:
    """The size of a ``dumps`` archive's structure, its tensors' data left out."""
    import torch

    try:
        return len(torch._C.PyTorchFileReader(io.BytesIO(data)).get_record("data.pkl"))  # C++: quick
    except Exception as exc:  # not a torch.save archive
        raise WireError(f"a frame that is not plain data ({type(exc).__name__})") from None


def loads(data: bytes, max_pickle: int = MAX_PICKLE) -> Any:
    import torch

    pickled = _pickled(data)
    if pickled > max_pickle:
        raise WireError(f"a frame whose structure takes {pickled} bytes, over the {max_pickle}-byte limit")
    try:
        return torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:  # a refused type, a truncated file, a subclass
        raise WireError(f"a frame that is not plain data ({type(exc).__name__})") from None


def send(fd: int, obj: Any, token: int, max_pickle: int = MAX_PICKLE) -> None:
    data = dumps(obj)
    if (pickled := _pickled(data)) > max_pickle:
        raise TooLarge(f"its structure takes {pickled} bytes, over the {max_pickle}-byte limit")
    view = memoryview(_HEADER.pack(len(data), token) + data)
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


def recv(fd: int, deadline: float | None = None, limit: int = MAX_FRAME,
         accept: Container[int] | None = None) -> tuple[int, Any]:
    """Read one frame: its token and its data. ``deadline`` is a ``time.monotonic()`` instant; with ``accept``,
    a frame whose token is not in it raises ``Stray`` before its data is read."""
    size, token = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if accept is not None and token not in accept:
        raise Stray(token)
    if size > limit:
        raise WireError(f"frame of {size} bytes is over the {limit}-byte limit")
    return token, loads(_read_exact(fd, size, deadline))
