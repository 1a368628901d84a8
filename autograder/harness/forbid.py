"""Make named torch operations unavailable while a student's function runs.

Two modes watch every call: a ``TorchFunctionMode`` sees the Python-level
name (``F.mse_loss``, ``x.sigmoid()``, an alias, ``torch.ops.aten.*``) and a
``TorchDispatchMode`` sees the aten kernel underneath, so neither an import
alias nor ``torch._C.DisableTorchFunction`` gets around the rule.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode


class ForbiddenCall(Exception):
    """Raised at the call site of a forbidden operation."""


def op_name(func: object) -> str:
    """The root name of a torch callable: ``_log_softmax.default`` -> ``log_softmax``."""
    name = getattr(func, "__name__", None) or str(func)
    name = name.split("::")[-1].split(".")[0].strip("_")
    for prefix in ("special_", "nn_"):
        name = name.removeprefix(prefix)
    return name


class _Watch:
    def __init__(self, names: frozenset[str], hits: list[str]):
        self.names, self.hits = names, hits

    def check(self, func: object) -> None:
        name = op_name(func)
        if name in self.names:
            if name not in self.hits:
                self.hits.append(name)
            raise ForbiddenCall(f"'{name}' is not allowed here")


class _FunctionWatch(_Watch, TorchFunctionMode):
    def __init__(self, names, hits):
        _Watch.__init__(self, names, hits)
        TorchFunctionMode.__init__(self)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.check(func)
        return func(*args, **(kwargs or {}))


class _DispatchWatch(_Watch, TorchDispatchMode):
    """Kernel-level watch; forbidding ``backward`` also forbids any kernel run by the autograd engine."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No: torch would wrap ``__torch_dispatch__`` in ``torch._disable_dynamo``, whose first call imports
        torch._dynamo (1.3 s in every worker that checks a name "from scratch")."""
        return False

    def __init__(self, names, hits):
        _Watch.__init__(self, names, hits)
        TorchDispatchMode.__init__(self)
        self.no_autograd = bool(names & {"backward", "grad"})

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.check(func)
        if self.no_autograd and torch._C._current_graph_task_id() != -1:
            if "backward" not in self.hits:
                self.hits.append("backward")
            raise ForbiddenCall("autograd (a backward pass) is not allowed here")
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def forbidding(names: Iterable[str]) -> Iterator[list[str]]:
    """Within the block, calling any of ``names`` raises; yields the names hit."""
    names = frozenset(names)
    hits: list[str] = []
    if not names:
        yield hits
        return
    with _DispatchWatch(names, hits), _FunctionWatch(names, hits):
        yield hits
