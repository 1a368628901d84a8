"""Describe an exception raised by student code, or a place in it, showing only frames from the student's cells."""
from __future__ import annotations

import linecache
import traceback
from types import FrameType

CELL_PREFIX = "<cell "


class ForbiddenCall(Exception):
    """Raised at the call site of a forbidden operation."""


def _place(filename: str, lineno: int | None, line: str | None) -> str:
    return f"{filename[1:-1]}, line {lineno}" + (f": {line}" if line else "")


def student_line(frame: FrameType | None) -> str:
    """The innermost place in the student's cells on ``frame``'s stack, ``cell 3, line 7: code``; "" if none."""
    while frame is not None and not frame.f_code.co_filename.startswith(CELL_PREFIX):
        frame = frame.f_back
    if frame is None:
        return ""
    filename = frame.f_code.co_filename
    return _place(filename, frame.f_lineno, linecache.getline(filename, frame.f_lineno).strip())


def describe(exc: BaseException) -> dict:
    """Exception summary that shows only frames from the student's cells."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)]
    where, function = "", ""
    if frames:
        last = frames[-1]
        function = last.name
        where = _place(last.filename, last.lineno, last.line)
    elif isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(CELL_PREFIX):
        where = _place(exc.filename, exc.lineno, None)
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
