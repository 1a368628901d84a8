"""Describe an exception raised by student code, or a place in it, showing only frames from the student's cells."""
from __future__ import annotations

import linecache
import traceback
from types import FrameType

CELL_PREFIX = "<cell "


def cell_filename(number: int) -> str:
    """The file name that code of the notebook's code cell ``number`` runs under, in tracebacks."""
    return f"{CELL_PREFIX}{number}>"


class ForbiddenCall(Exception):
    """Raised at the call site of a forbidden operation."""


def _place(filename: str, lineno: int | None, line: str | None) -> str:
    """``code cell N, line L: code`` for a place in the student's cell ``<cell N>``."""
    return f"code {filename[1:-1]}, line {lineno}" + (f": {line}" if line else "")


def student_line(frame: FrameType | None) -> str:
    """The innermost place in the student's cells on ``frame``'s stack, ``code cell 3, line 7: code``; "" if none."""
    while frame is not None and not frame.f_code.co_filename.startswith(CELL_PREFIX):
        frame = frame.f_back
    if frame is None:
        return ""
    filename = frame.f_code.co_filename
    return _place(filename, frame.f_lineno, linecache.getline(filename, frame.f_lineno).strip())


def describe(exc: BaseException) -> dict:
    """Exception summary that shows only frames from the student's cells, where as "code cell N, line L: code"."""
    stack = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in stack if f.filename.startswith(CELL_PREFIX)]
    where, function = "", ""
    if frames:
        last = frames[-1]
        function = last.name
        where = _place(last.filename, last.lineno, last.line)
    elif isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(CELL_PREFIX):
        where = _place(exc.filename, exc.lineno, exc.text.strip() if exc.text else None)
    try:
        message = (exc.msg if isinstance(exc, SyntaxError) else str(exc))[:1000]  # no repeated location
    except Exception:
        message = "<unprintable message>"
    return {"type": type(exc).__name__, "message": message, "where": where, "function": function,
            "forbidden": isinstance(exc, ForbiddenCall),
            # by a raise statement of the notebook (a stub's NotImplementedError), not inside torch (its own)
            "raised": bool(stack) and stack[-1].filename.startswith(CELL_PREFIX)
            and (stack[-1].line or "").lstrip().startswith("raise")}


def summary(exc: BaseException) -> str:
    """``Type: message (code cell N, line L: code)`` in one line."""
    info = describe(exc)
    return f"{info['type']}: {info['message'][:300]}" + (f" ({info['where']})" if info["where"] else "")
