"""The sandboxed worker: runs a submission's cells, then answers probes.

The fork server (``zygote``) calls ``warm_up`` once and ``serve`` in each
worker it forks. Requests and replies are wire frames.
"""
from __future__ import annotations

import importlib
import linecache
import threading
from collections.abc import Iterable

from . import forbid, seal, wire
from .errors import cell_filename, describe
from .probes import Missing, UnknownProbe, find, load_assignments
from .protocol import Reply, Request
from .shell import Shell, display


def _exec(shell: Shell, index: int, source: str) -> dict:
    filename = cell_filename(index)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    shell.cell = index
    exec(compile(source, filename, "exec"), shell.user_ns)
    return {}


def handle(shell: Shell, msg: Request) -> Reply:
    ns = shell.user_ns
    try:
        if msg["op"] == "exec":
            return {"ok": _exec(shell, msg["index"], msg["source"])}
        if msg["op"] == "probe":
            try:
                run = find(msg["assignment"], msg["probe"])
            except UnknownProbe as exc:
                return {"error": {"type": "Protocol", "message": str(exc), "where": ""}}
            return {"ok": run(ns, **msg["args"])}
        return {"error": {"type": "Protocol", "message": f"unknown op {msg['op']!r}", "where": ""}}
    except Missing as exc:
        return {"missing": str(exc)}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        return {"error": describe(exc)}


def warm_up(modules: Iterable[str] = ()) -> None:
    """Import torch, and ``modules``, so that a forked worker starts at once.

    A fork server that serves many workers imports what their notebooks import first (pyplot) and the
    slow imports their assignments declare (torch._dynamo, which an optimizer and torchvision import: 1.3 s).
    """
    import matplotlib
    import torch

    matplotlib.use("Agg")
    for module in modules:
        importlib.import_module(module)
    load_assignments()  # before any student code, so that the seal each worker takes covers them
    forbid.install()  # after the imports: torch's modules loaded by then hold its switches
    with forbid.forbidding({"warm-up"}):  # the watches' first use sets up torch's mode machinery (4 ms): once, here
        torch.zeros(1) + 1


def serve(fd_in: int, fd_out: int) -> None:
    """Answer requests until the grader closes ``fd_in``.

    Each reply repeats its request's token, and counts the threads the request started and left running: if
    the process later ends by itself, the grader blames the name whose call left one, not merely the last name
    called. It lists any tampering the request did with the harness or its watch (forbid.py, seal.py).
    """
    ns: dict = {"__name__": "__main__", "display": display}
    shell = Shell(ns)
    ns["get_ipython"] = lambda: shell
    # taken before any student code runs: rebinding these names in the harness's modules changes nothing here
    recv, send, answer, tampering, changes = wire.recv, wire.send, handle, forbid.tampering, seal.Seal().changes
    while True:
        try:
            token, msg = recv(fd_in)
        except wire.Closed:
            return
        try:
            before = set(threading.enumerate())
            reply = answer(shell, msg)
            reply["threads"] = sum(t not in before for t in threading.enumerate())  # left running by the call
            tampered = tampering() + changes()
            if tampered:
                reply["tampered"] = tampered
            send(fd_out, reply, token)
        except Exception as exc:  # a reply that cannot be encoded
            send(fd_out, {"error": {"type": type(exc).__name__, "message": str(exc)[:500], "where": ""}}, token)
