"""Student-facing sentences for what a student's code raised, with a hint where the cause is a common one.

The worker describes an exception as plain data (harness/errors.py): its type,
message and where it happened, as "code cell N, line L: code". This module
words it for a student: terminal colour codes out, long messages cut at a word
and said to be cut, and a hint for a shell command written without ``!``, a
memory limit reached, or a name that only a visible test cell defines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

LIMIT = 600  # characters of a message a student reads before it is cut
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
SHELL = frozenset({"cd", "ls", "pip", "pip3", "conda", "git", "wget", "curl", "unzip", "tar", "mkdir", "rm", "cp",
                   "mv", "cat", "echo", "pwd", "head", "tail", "nvidia-smi", "apt", "apt-get", "python", "python3"})
_NAME_ERROR = re.compile(r"name '(\w+)' is not defined")


@dataclass(frozen=True)
class Context:
    """What the hints need to know of the submission and the grading."""

    memory_mb: int = 0                         # the memory limit of a process
    only_in_tests: frozenset[str] = frozenset()    # names that only visible test cells define


def clip(text: str, limit: int = LIMIT) -> str:
    """``text`` without terminal colour codes, cut at a word if longer than ``limit``, saying so."""
    text = _ANSI.sub("", text)
    if len(text) <= limit:
        return text
    head = text[:limit]
    return (head.rsplit(maxsplit=1)[0] if " " in head else head) + " [...] (the rest was cut)"


def raised(error: dict, context: Context = Context()) -> str:
    """``raised Type: message (where)``, and a hint where one helps."""
    kind, message, where = error.get("type", "?"), clip(error.get("message", "")), error.get("where", "")
    text = f"raised {kind}" + (f": {message}" if message else "") + (f" ({where})" if where else "")
    hint = _hint(kind, message, where, context)
    return f"{text}. {hint}" if hint else text


def _hint(kind: str, message: str, where: str, context: Context) -> str:
    if kind == "MemoryError" or "can't allocate memory" in message or "out of memory" in message:
        limit = f" of {context.memory_mb} MB" if context.memory_mb else ""
        return f"It ran out of memory: grading gives each process a limit{limit}; use smaller tensors or batches"
    if kind in ("SyntaxError", "IndentationError"):
        code = where.split(": ", 1)[1] if ": " in where else ""
        if code.split()[:1] and code.split()[0] in SHELL:
            return (f"`{code}` is a shell command, which Jupyter runs only with a ! in front (`!{code}`), or as "
                    "%cd to change folders")
    if kind == "NameError":
        found = _NAME_ERROR.search(message)
        if found and found.group(1) in context.only_in_tests:
            return (f"{found.group(1)} is defined only in a test cell, and grading does not run test cells: "
                    "define it in your answer's cell")
    return ""


def raised_message(name: str, error: dict, context: Context = Context()) -> str:
    """A student-facing sentence for an exception raised by graded name ``name``."""
    if error.get("type") == "NotImplementedError" and error.get("raised"):  # the stub's own, not torch's
        function = error.get("function")
        if function and function not in (name, "<module>", "__init__", "forward"):
            return f"{name} calls {function}, which is not implemented yet"
        return f"{name} is not implemented yet: it still raises NotImplementedError"
    if error.get("type") == "TooLarge":  # wire.send refused the reply (harness/__main__.serve)
        return (f"{name} returned a value too large to send back to the grader ({error.get('message', '')}): "
                "return one tensor rather than many small values or long strings")
    if error.get("forbidden"):
        return (f"{name} uses a library shortcut: {error.get('message', '')}. This exercise asks you "
                "to write it from scratch with elementary tensor operations")
    return f"{name} {raised(error, context)}"
