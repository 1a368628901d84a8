"""Describe an exception raised by student code, showing only frames from the student's cells."""
from __future__ import annotations

import traceback

from .forbid import ForbiddenCall

CELL_PREFIX = "<cell "


def cell_filename(number: int) -> str:
    """The file name that code of the notebook's code cell ``number`` runs under, in tracebacks."""
    return f"{CELL_PREFIX}{number}>"


def describe(exc: BaseException) -> dict:
    """Exception summary that shows only frames from the student's cells, where as "code cell N, line L: code"."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)]
    where, function = "", ""
    if frames:
        last = frames[-1]
        function = last.name
        where = f"code {last.filename[1:-1]}, line {last.lineno}" + (f": {last.line}" if last.line else "")
    elif isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(CELL_PREFIX):
        where = f"code {exc.filename[1:-1]}, line {exc.lineno}" + (f": {exc.text.strip()}" if exc.text else "")
    try:
        message = (exc.msg if isinstance(exc, SyntaxError) else str(exc))[:1000]  # no repeated location
    except Exception:
        message = "<unprintable message>"
    return {"type": type(exc).__name__, "message": message, "where": where, "function": function,
            "forbidden": isinstance(exc, ForbiddenCall)}


def summary(exc: BaseException) -> str:
    """``Type: message (code cell N, line L: code)`` in one line."""
    info = describe(exc)
    return f"{info['type']}: {info['message'][:300]}" + (f" ({info['where']})" if info["where"] else "")
