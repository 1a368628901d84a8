"""The sandbox side of 03_training_loop, training loops: run the student's functions on instrumented objects.

The grader sends plain data (layer specs, state dicts, tensors, hyperparameters). These probes build
models, loaders and optimizers from it, record how the student's code uses them, and send back what
happened; the grader compares that with its own reference.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ..functions import resolve
from ..probes import build, lookup, probe
from ..values import export


def loader(data: dict) -> DataLoader:
    """An unshuffled DataLoader over ``data["x"]`` and ``data["y"]`` in batches of ``data["batch_size"]``."""
    return DataLoader(TensorDataset(data["x"], data["y"]), batch_size=data["batch_size"], shuffle=False)


class Recorded(nn.Module):
    """Wraps a model: logs the modes of every forward call, and appends "backward" to ``events`` for each backward."""

    def __init__(self, inner: nn.Module, events: list[str]):
        super().__init__()
        self.inner, self.forwards = inner, []
        next(inner.parameters()).register_post_accumulate_grad_hook(lambda p: events.append("backward"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.forwards.append({"training": self.training, "grad_enabled": torch.is_grad_enabled()})
        return self.inner(x)

    def report(self) -> dict:
        """The forward log, the parameters and which of them hold a gradient."""
        return {"forwards": self.forwards, "state": export(dict(self.inner.state_dict())),
                "grads": [n for n, p in self.inner.named_parameters() if p.grad is not None]}


def logging_steps(optimizer: torch.optim.Optimizer, events: list[str]) -> torch.optim.Optimizer:
    """``optimizer``, with each call of its ``step`` appended to ``events``."""
    step = optimizer.step

    def logged_step(*args: Any, **kwargs: Any) -> Any:
        events.append("step")
        return step(*args, **kwargs)

    optimizer.step = logged_step
    return optimizer


def on(device: str | None) -> dict:
    """The ``device`` keyword argument, or none to leave the default."""
    return {} if device is None else {"device": device}


@probe
def network(ns: dict, name: str, sizes: list[int], inputs: list[torch.Tensor]) -> dict:
    """Build ``name(*sizes)``; its parameters by name, and its outputs for ``inputs``."""
    net = lookup(ns, name)(*sizes)
    if not isinstance(net, nn.Module):
        return {"module": False, "class": type(net).__name__}
    return {"module": True, "parameters": export(dict(net.named_parameters())),
            "outputs": [export(net(x.clone())) for x in inputs]}


@probe
def optimizer_steps(ns: dict, name: str, kind: str, lr: float, start: torch.Tensor, loss: dict, steps: int) -> dict:
    """``name(kind, params, lr)`` on one parameter, passed as a generator: its settings, then ``steps`` steps."""
    param = nn.Parameter(start.clone())
    optimizer = lookup(ns, name)(kind, (p for p in [param]), lr)
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"optimizer": False, "class": type(optimizer).__name__}
    groups = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    given = [[p is param for p in group["params"]] for group in optimizer.param_groups]
    path = []
    for _ in range(steps):
        optimizer.zero_grad()
        resolve(loss)(param).backward()
        optimizer.step()
        path.append(param.detach().clone())
    return {"optimizer": True, "class": type(optimizer).__name__, "groups": export(groups), "given": given,
            "path": path}


@probe
def train_epoch(ns: dict, name: str, spec: list, state: dict, data: dict, lr: float, momentum: float,
                device: str | None = None) -> dict:
    """``name(model, loader, CrossEntropyLoss(), SGD)`` on a model left in eval mode; what it did and returned."""
    events: list[str] = []
    model = Recorded(build(spec, state), events).eval()
    optimizer = logging_steps(torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum), events)
    value = lookup(ns, name)(model, loader(data), nn.CrossEntropyLoss(), optimizer, **on(device))
    return {"value": export(value), "events": events, **model.report()}


@probe
def evaluate_model(ns: dict, name: str, spec: list, state: dict, data: dict, device: str | None = None) -> dict:
    """``name(model, loader)`` on a model left in train mode; what it did and returned."""
    model = Recorded(build(spec, state), []).train()
    value = lookup(ns, name)(model, loader(data), **on(device))
    return {"value": export(value), **model.report()}


@probe
def fit_run(ns: dict, name: str, spec: list, state: dict, train: dict, val: dict, lr: float, epochs: int,
            canned: dict | None = None) -> dict:
    """``name(model, train_loader, val_loader, CrossEntropyLoss(), SGD, epochs)``.

    With ``canned`` (lists ``"train_loss"`` and ``"val_accuracy"``), ``train_one_epoch`` and ``evaluate``
    are replaced while it runs by stubs that log their calls and return the canned values in turn.
    """
    given = {"model": build(spec, state), "loss_fn": nn.CrossEntropyLoss()}
    given["optimizer"] = torch.optim.SGD(given["model"].parameters(), lr=lr)
    loaders = {"train": loader(train), "val": loader(val)}
    calls: list[dict] = []

    def record(function: str, values: list[float], batches: Any, **passed: Any) -> float:
        calls.append({"function": function, "loader": next((k for k, v in loaders.items() if v is batches), "other"),
                      **{k: v is given[k] for k, v in passed.items()}})
        return values[min(sum(c["function"] == function for c in calls), len(values)) - 1]

    def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
        return record("train_one_epoch", canned["train_loss"], loader, model=model, loss_fn=loss_fn,
                      optimizer=optimizer)

    def evaluate(model, loader, device="cpu"):
        return record("evaluate", canned["val_accuracy"], loader, model=model)

    stubs = {"train_one_epoch": train_one_epoch, "evaluate": evaluate} if canned else {}
    saved = {k: ns[k] for k in stubs if k in ns}
    ns.update(stubs)
    try:
        value = lookup(ns, name)(given["model"], loaders["train"], loaders["val"], given["loss_fn"],
                                 given["optimizer"], epochs)
    finally:
        for k in stubs:
            ns.pop(k, None)
        ns.update(saved)
    return {"value": export(value), "calls": calls, "state": export(dict(given["model"].state_dict()))}
