"""Procedures the grader asks the worker to run against the student's names.

Each probe takes the notebook's namespace and plain arguments, calls student
code, and returns plain data; the grader compares it with its own reference.
The generic probes are here; an assignment's own live in ``assignments/<id>.py``,
found by the assignment's name (``find``).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

import torch
from torch import nn

from . import assignments
from .errors import ForbiddenCall
from .forbid import forbidding
from .functions import resolve
from .protocol import CallReply
from .values import export


class Missing(Exception):
    """The notebook does not define a graded name."""


class UnknownProbe(LookupError):
    """No probe of that name, generic or the assignment's."""


def probe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as a probe: only marked functions can be requested by name."""
    fn.is_probe = True
    return fn


def load_assignments() -> None:
    """Import every assignment's sandbox-side module, ``assignments/<id>.py``: in the fork server, before any
    student code, so that ``find`` reaches them through the package (which ``seal`` watches), never through an
    import that student code could have redirected."""
    for module in pkgutil.iter_modules(assignments.__path__):
        importlib.import_module(f"{assignments.__name__}.{module.name}")


def find(assignment: str, name: str) -> Callable[..., Any]:
    """The probe ``name``: a generic one, else the assignment's own."""
    fn = globals().get(name)
    if not getattr(fn, "is_probe", False):
        fn = getattr(vars(assignments).get(assignment), name, None)
    if not getattr(fn, "is_probe", False):
        raise UnknownProbe(f"no probe {name!r} for {assignment}")
    return fn


def lookup(ns: dict, name: str) -> Any:
    if name not in ns:
        raise Missing(name)
    return ns[name]


LAYERS = {"flatten": nn.Flatten, "linear": nn.Linear, "relu": nn.ReLU, "tanh": nn.Tanh, "dropout": nn.Dropout,
          "conv2d": nn.Conv2d, "batchnorm2d": nn.BatchNorm2d, "maxpool2d": nn.MaxPool2d}


def build(spec: list, state: dict | None = None) -> nn.Sequential:
    """``nn.Sequential`` of ``spec``'s layers, e.g. ``[["flatten"], ["linear", 784, 10]]``, loaded with ``state``."""
    model = nn.Sequential(*(LAYERS[kind](*args) for kind, *args in spec))
    if state is not None:
        model.load_state_dict(state)
    return model


def _inputs(args: list, grad: list[int]) -> list:
    """Fresh copies of the grader's inputs, with ``grad`` positions requiring grad."""
    out = [a.clone() if isinstance(a, torch.Tensor) else resolve(a) for a in args]
    for i in grad:
        out[i].requires_grad_(True)
    return out


@probe
def call(ns: dict, name: str, args: list, kwargs: dict, forbid: list[str] = (),
         grad: list[int] = (), grad_out: torch.Tensor | None = None) -> CallReply:
    """Call ``name(*args, **kwargs)``; optionally backpropagate into ``grad`` args."""
    fn = lookup(ns, name)
    inputs = _inputs(args, list(grad))
    kwargs = {k: resolve(v) for k, v in kwargs.items()}
    with forbidding(forbid) as hits:
        try:
            value = fn(*inputs, **kwargs)
        except Exception as exc:
            if hits and not isinstance(exc, ForbiddenCall):  # the shortcut is why it failed, in a thread say
                raise ForbiddenCall(f"'{hits[0]}' is not allowed here") from None
            raise
    result: CallReply = {
        "value": export(value),
        "value_requires_grad": isinstance(value, torch.Tensor) and value.requires_grad,
        "forbidden": hits,
        "args_after": export(inputs),
        "requires_grad_after": [isinstance(a, torch.Tensor) and a.requires_grad for a in inputs],
        "grads_after": [export(a.grad) if isinstance(a, torch.Tensor) else None for a in inputs],
    }
    if grad:
        result["grads"] = _backward(value, [inputs[i] for i in grad], grad_out)
    return result


def _backward(value: Any, leaves: list[torch.Tensor], grad_out: torch.Tensor | None) -> Any:
    if not isinstance(value, torch.Tensor) or value.grad_fn is None:
        return "the returned value is not connected to the inputs' autograd graph"
    weight = torch.ones_like(value) if grad_out is None else grad_out
    try:
        (value * weight).sum().backward()
    except RuntimeError as exc:
        return f"backward failed: {exc}"
    return [export(leaf.grad) for leaf in leaves]


@probe
def figure(ns: dict, name: str, args: list, kwargs: dict) -> dict:
    """Call ``name`` and describe the matplotlib Figure it returns: axes, lines, labels, data."""
    import matplotlib.figure
    import matplotlib.pyplot as plt

    value = lookup(ns, name)(*_inputs(args, []), **kwargs)
    if not isinstance(value, matplotlib.figure.Figure):
        return {"figure": export(value)}
    axes = [{
        "title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
        "legend": [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else [],
        "lines": [{"label": str(line.get_label()),
                   "x": torch.as_tensor(line.get_xdata(), dtype=torch.float64),
                   "y": torch.as_tensor(line.get_ydata(), dtype=torch.float64)} for line in ax.get_lines()],
    } for ax in value.get_axes()]
    plt.close(value)
    return {"figure": None, "axes": axes}
