"""Scan a notebook's code for what could switch off the from-scratch watch: what fails, and what is flagged.

The watch (harness/forbid.py) runs in the student's own process. Code that
uses PyTorch's mode machinery or names the watch (``FAILS``) fails the
from-scratch checks of the names its cell defines (of every name, from a cell
no graded name owns): no exercise needs it. The introspection it takes to reach
the watch or the harness (the garbage collector's object search, sys.modules,
stack frames, closures, a method replaced on an existing class, hooks, torch's
C internals, such names in strings) has ordinary uses too, so it costs nothing:
each such line is flagged for the instructor, who sees it in the report, never
the student. What gets past both is for the watch to notice as it runs.
"""
from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

from .notebook import Cell, python_source, runnable

FAILS = frozenset({
    "DisableTorchFunction", "DisableTorchFunctionSubclass", "_disable_current_modes", "_pop_mode",
    "_push_mode", "_pop_torch_function_stack", "_push_on_torch_function_stack", "_set_torch_function_mode",
    "_unset_dispatch_mode", "_set_dispatch_mode", "_get_current_dispatch_mode", "_pop_mode_temporarily",
    "_len_torch_function_stack", "_get_function_stack_at", "TorchFunctionMode", "TorchDispatchMode",
    "_python_dispatch", "forbidding", "ForbiddenCall", "_FunctionWatch", "_DispatchWatch",
    "_pop_torch_dispatch_stack", "_push_on_torch_dispatch_stack", "_len_torch_dispatch_stack",
    "_get_dispatch_stack_at", "_DisableTorchDispatch", "_set_torch_function_state", "_TorchFunctionState",
    "_set_skip_next_torch_function", "_skip_one_hop_torch_function", "BaseTorchFunctionMode",
    "_get_current_function_mode", "_get_current_function_mode_stack", "_get_current_dispatch_mode_stack",
    "_dispatch_tls_set_dispatch_key_excluded", "ExcludeDispatchKeyGuard", "_ExcludeDispatchKeyGuard",
    "_SetExcludeDispatchKeyGuard", "_ForceDispatchKeyGuard",
})
_FLAGS = {
    **dict.fromkeys(("get_objects", "get_referrers", "get_referents"), "searches the garbage collector's objects"),
    **dict.fromkeys(("_getframe", "currentframe", "f_back", "f_locals", "f_globals", "tb_frame", "gi_frame"),
                    "walks the call stack's frames"),
    **dict.fromkeys(("__closure__", "cell_contents", "__code__", "__defaults__", "__kwdefaults__", "__globals__"),
                    "reaches into a function's closure or code"),
    **dict.fromkeys(("setprofile", "settrace"), "replaces the interpreter's profile or trace hook"),
    **dict.fromkeys(("_thread", "start_new_thread", "_start_new_thread"), "starts threads below threading"),
    **dict.fromkeys(("pythonapi", "PyEval_SetProfile", "PyEval_SetTrace"), "calls the interpreter's C API"),
}
_REPLACED = frozenset({"__enter__", "__exit__", "__torch_function__", "__torch_dispatch__", "__class__"})
_STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT})
_IN_STRINGS = ("harness", "forbid", "Watch", "TorchFunction", "TorchDispatch", "torch_function", "torch_dispatch",
               "function_stack", "dispatch_stack", "DisableTorch", "__enter__", "__exit__", "get_objects", "_getframe")


@dataclass(frozen=True)
class Finding:
    """A line of a cell that uses ``token``: ``what`` it does, and whether it fails the from-scratch checks."""

    grade_id: str | None
    cell: int
    line: int
    code: str
    token: str
    what: str
    fails: bool

    @property
    def flag(self) -> str:
        """The instructor's line: the name, what the code does, and where."""
        owner = self.grade_id or "a cell of no graded name"
        return f"{owner}: {self.what} (code cell {self.cell}, line {self.line}: {self.code})"


def _judge(tokens: list[tokenize.TokenInfo], i: int) -> tuple[str, bool] | None:
    """What token ``i`` does, and whether it fails; None if nothing to flag."""
    word = tokens[i].string
    before = [t.string for t in tokens[max(i - 2, 0):i]]
    after = tokens[i + 1].string if i + 1 < len(tokens) else ""
    if tokens[i].type == tokenize.STRING:
        if i == 0 or tokens[i - 1].type in _STATEMENT_START:  # a docstring
            return None
        named = next((w for w in _IN_STRINGS if w in word), None)
        return (f"names {named!r} in a string", False) if named else None
    if tokens[i].type != tokenize.NAME:
        return None
    if word in FAILS:
        return f"uses PyTorch's mode machinery or the grader's watch ({word})", True
    if word in _FLAGS:
        return f"{_FLAGS[word]} ({word})", False
    if before == ["sys", "."] and word == "modules":
        return "reaches modules through sys.modules", False
    if before == ["torch", "."] and word == "_C":
        return "uses torch's C internals (torch._C)", False
    if before[-1:] == ["."] and word in _REPLACED and after == "=":
        return f"replaces {word} of an existing class or object", False
    return None


def scan(cells: list[Cell]) -> list[Finding]:
    """Every line of the code cells that ``FAILS`` or is flagged, once per line and kind, in order."""
    found: dict[tuple[int, int, str], Finding] = {}
    for cell in runnable(cells):
        source = python_source(cell)
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        except (tokenize.TokenError, SyntaxError):
            continue
        lines = source.splitlines()
        for i, token in enumerate(tokens):
            judged = _judge(tokens, i)
            if judged:
                line = token.start[0]
                code = lines[line - 1].strip()[:200] if line <= len(lines) else ""
                found.setdefault((cell.number, line, judged[0]), Finding(cell.grade_id, cell.number, line, code,
                                                                        token.string, *judged))
    return list(found.values())
