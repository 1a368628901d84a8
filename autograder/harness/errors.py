"""Describe an exception raised by student code, showing only frames from the student's cells."""
from __future__ import annotations

import traceback

from .forbid import ForbiddenCall

CELL_PREFIX = "<cell "


def describe(exc: BaseException) -> dict:
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


def summary(exc: BaseException) -> str:
    """``Type: message (cell N, line L)`` in one line."""
    info = describe(exc)
    return f"{info['type']}: {info['message'][:300]}" + (f" ({info['where']})" if info["where"] else "")
