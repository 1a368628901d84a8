"""Notice student code changing the harness: what it runs on, taken before any student code, compared after each
request.

Student code runs in the worker's process and could rebind anything the harness looks up as it runs: a probe, the
from-scratch watch or its mode classes, torch's mode classes and switches, how a thread starts. ``Seal`` keeps, by
identity, the names of each harness module and of its classes, the code and defaults of its functions, torch's mode
classes and the attributes the watch replaced (forbid.installed), and lists what differs. The grader fails a name
whose call changed any of them, and skips a cell that did (student.py).
"""
from __future__ import annotations

import operator
import sys
import types
from collections.abc import Callable, Iterator, Mapping

from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from .forbid import installed

_PACKAGE = __name__.rpartition(".")[0]
Part = tuple[str, Callable[[], Mapping[str, object]]]  # a label, and how to read its names now


def _function(label: str, f: types.FunctionType) -> Part:
    return label, lambda: {"__code__": f.__code__, "__defaults__": f.__defaults__, "__kwdefaults__": f.__kwdefaults__}


def _class(label: str, cls: type) -> Iterator[Part]:
    yield label, lambda: cls.__dict__
    yield from (_function(f"{label}.{name}", value) for name, value in cls.__dict__.items()
                if isinstance(value, types.FunctionType))


def _parts() -> Iterator[Part]:
    for module in [m for name, m in sys.modules.items() if name == _PACKAGE or name.startswith(_PACKAGE + ".")]:
        yield module.__name__, lambda m=module: vars(m)
        for name, value in vars(module).items():
            label = f"{module.__name__}.{name}"
            if isinstance(value, type) and value.__module__ == module.__name__:
                yield from _class(label, value)
            elif isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                yield _function(label, value)
            elif type(value) is dict and not name.startswith("__"):  # its own tables, not __builtins__
                yield label, lambda d=value: d
    yield from _class("torch.overrides.TorchFunctionMode", TorchFunctionMode)
    yield from _class("torch.utils._python_dispatch.TorchDispatchMode", TorchDispatchMode)
    for owner, name in installed():
        yield getattr(owner, "__name__", "?"), lambda o=owner, n=name: {n: getattr(o, n, None)}


class Seal:
    """The harness as it is now; ``changes()`` lists what student code has changed since (in about 50 us)."""

    def __init__(self) -> None:
        self._parts = [(label, read, dict(read())) for label, read in _parts()]
        self._names = [(tuple(then), tuple(then.values())) for _, _, then in self._parts]

    def changes(self) -> list[str]:
        found = []
        for (label, read, then), (names, values) in zip(self._parts, self._names):
            now = read()
            if len(now) == len(names) and all(map(operator.is_, map(now.get, names), values)):
                continue
            # not __warningregistry__: the warnings module adds it to a module where a warning arises in one of its
            # frames (a ResourceWarning for a file the student's code left open, say): bookkeeping, not tampering
            differ = (then.keys() | now.keys()) - {"__warningregistry__"}
            found += [f"changed {label}.{name}" for name in sorted(differ)
                      if then.get(name, self) is not now.get(name, self) and not _submodule(label, now.get(name))]
        return found


def _submodule(label: str, value: object) -> bool:
    """A harness module imported since, which the package then holds: not a change."""
    return label == _PACKAGE and isinstance(value, types.ModuleType) and value.__name__.startswith(_PACKAGE + ".")
