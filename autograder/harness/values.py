"""Turn whatever a student's function returned into plain data, and back.

``export`` runs in the sandbox. Anything that is not a tensor, a number, a
string or a container of those becomes an ``Opaque`` description, so the
grader can say "returned a numpy.ndarray" instead of failing to load it. So
does a container of more than ``MAX_ITEMS`` items or a string of more than
``MAX_CHARS``: a reply stays small enough for the grader to read at once
(wire.MAX_PICKLE), and a function that returns millions of numbers fails its
check with a message rather than stalling the grader.
"""
from __future__ import annotations

import itertools
import reprlib
from dataclasses import dataclass
from typing import Any

import torch

_OPAQUE = "__opaque__"
_PLAIN = (bool, int, float, str, type(None))
MAX_ITEMS = 20_000   # items in one exported value, nested ones included
MAX_CHARS = 100_000  # characters of one string
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 200


@dataclass(frozen=True)
class Opaque:
    """A value that could not cross as data: its type and a short repr."""

    type: str
    repr: str

    def __str__(self) -> str:
        return f"a {self.type}"


def _describe(value: Any, text: str | None = None) -> dict:
    kind = type(value)
    if text is None:
        try:
            text = _REPR.repr(value)[:200]
        except Exception:
            text = "<unprintable>"
    return {_OPAQUE: f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins."), "repr": text}


def export(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """Plain data for ``value``: tensors detached and cloned as ``torch.Tensor``; at most ``MAX_ITEMS`` items."""
    budget = [MAX_ITEMS] if budget is None else budget
    if depth > 20:
        return _describe(value)
    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided:
            return _describe(value)
        return value.detach().as_subclass(torch.Tensor).clone()
    if type(value) is str and len(value) > MAX_CHARS:
        return _describe(value, f"{len(value)} characters: too long to send back")
    if type(value) in _PLAIN:
        return value
    sequence = type(value) in (list, tuple) or isinstance(value, (torch.Size, tuple, list))
    mapping = type(value) is dict and all(type(k) is str for k in value)
    if not (sequence or mapping):
        return _describe(value)
    entries = list(itertools.islice(value.items() if mapping else value, max(budget[0], 0) + 1))
    budget[0] -= len(entries)
    if budget[0] < 0:
        return _describe(value, "too many items to send back")
    if mapping:
        return {k: export(v, depth + 1, budget) for k, v in entries}
    items = [export(v, depth + 1, budget) for v in entries]
    return items if isinstance(value, list) else tuple(items)


def revive(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """Replace opaque descriptions in loaded data by ``Opaque`` objects.

    Runs in the grader on untrusted data: nesting, size and tensor kinds are bounded.
    """
    budget = [100_000] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > 40:
        return Opaque("oversized value", "")
    if isinstance(value, torch.Tensor):
        if value.device.type != "cpu" or value.layout != torch.strided or value.is_quantized:
            return Opaque(f"{value.device.type} tensor", "")
        return value
    if isinstance(value, dict):
        if set(value) == {_OPAQUE, "repr"}:
            return Opaque(str(value[_OPAQUE])[:200], str(value["repr"])[:200])
        return {k: revive(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v, budget, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(revive(v, budget, depth + 1) for v in value)
    return value
