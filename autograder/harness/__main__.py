"""The sandboxed worker: runs a submission's cells, then answers probes.

Usage: python -m harness FD_IN FD_OUT. Requests and replies are wire frames.
"""
from __future__ import annotations

import linecache
import sys
import traceback

from . import loop_probes  # noqa: F401  (registers probes)
from . import mnist_probes  # noqa: F401  (registers probes)
from . import wire
from .forbid import ForbiddenCall
from .probes import PROBES, Missing

CELL_PREFIX = "<cell "


def _describe(exc: BaseException) -> dict:
    """Exception summary that shows only frames from the student's cells."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)]
    where, function = "", ""
    if frames:
        last = frames[-1]
        function = last.name
        where = f"{last.filename[1:-1]}, line {last.lineno}" + (f": {last.line}" if last.line else "")
    elif isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(CELL_PREFIX):
        where = f"{exc.filename[1:-1]}, line {exc.lineno}"
    try:
        message = str(exc)[:1000]
    except Exception:
        message = "<unprintable message>"
    return {"type": type(exc).__name__, "message": message, "where": where, "function": function,
            "forbidden": isinstance(exc, ForbiddenCall)}


def _exec(ns: dict, index: int, source: str) -> dict:
    filename = f"{CELL_PREFIX}{index}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)
    return {}


def handle(ns: dict, msg: dict) -> dict:
    try:
        if msg["op"] == "exec":
            return {"ok": _exec(ns, msg["index"], msg["source"])}
        if msg["op"] == "probe":
            return {"ok": PROBES[msg["probe"]](ns, **msg["args"])}
        return {"error": {"type": "Protocol", "message": f"unknown op {msg['op']!r}", "where": ""}}
    except Missing as exc:
        return {"missing": str(exc)}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        return {"error": _describe(exc)}


def main(fd_in: int, fd_out: int) -> None:
    import matplotlib
    import torch

    from .forbid import forbidding

    matplotlib.use("Agg")
    with forbidding({"warm-up"}):  # the kernel-level watch imports much of torch on first use: do it now
        torch.zeros(1) + 1
    ns: dict = {"__name__": "__main__"}
    while True:
        try:
            msg = wire.recv(fd_in)
        except wire.Closed:
            return
        try:
            reply = handle(ns, msg)
            wire.send(fd_out, reply)
        except Exception as exc:  # a reply that cannot be encoded
            wire.send(fd_out, {"error": {"type": type(exc).__name__, "message": str(exc)[:500], "where": ""}})


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
