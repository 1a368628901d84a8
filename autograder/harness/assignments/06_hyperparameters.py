"""The sandbox side of 06_hyperparameters: run the student's optimizer steps, searches, early stopping and
checkpoints on objects the harness builds, and send back what happened as plain data.

The grader sends tensors, plain dicts and lists; these probes keep the state dicts the student's functions
fill in place, build the callables, log paths, models and optimizers those functions need, record the global
random states, and send back values, the states and the files' contents; the grader compares them with its
own reference.
"""
from __future__ import annotations

import os
import random
import shutil
import tempfile
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import summary
from ..probes import build, lookup, probe
from ..values import export


def _class(value: Any) -> str:
    return type(value).__name__


# -- the *_step functions -----------------------------------------------------------------------------------


@probe
def steps(ns: dict, name: str, param: torch.Tensor, grads: list[torch.Tensor], state: dict, kwargs: dict) -> dict:
    """``name(param, grad, state, **kwargs)`` once per grad, each call on the tensor the last one returned, all
    on one ``state`` dict (the one sent, empty or as an earlier run left it): the tensor after each step, the
    state after the last, and the first call that changed its param or any grad in place."""
    fn = lookup(ns, name)
    originals = [g.clone() for g in grads]
    report: dict[str, Any] = {"params": [], "changed_param": None, "changed_grad": None, "returned": None}
    current = param
    for i, grad in enumerate(grads):
        before = current.clone()
        value = fn(current, grad, state, **kwargs)
        if report["changed_param"] is None and not torch.equal(current, before):
            report["changed_param"] = i
        if report["changed_grad"] is None and not all(torch.equal(g, o) for g, o in zip(grads, originals)):
            report["changed_grad"] = i
        if not isinstance(value, torch.Tensor):
            report["returned"] = export(value)
            break
        report["params"].append(export(value))
        current = value
    if report["changed_grad"] is None and not all(torch.equal(g, o) for g, o in zip(grads, originals)):
        report["changed_grad"] = len(grads) - 1
    report["state"] = export(state) if isinstance(state, dict) else None
    report["state_type"] = _class(state)
    return report


# -- random_search_configs ----------------------------------------------------------------------------------


def _global_states() -> dict:
    return {"random": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def _same_states(a: dict, b: dict) -> dict:
    na, nb = a["numpy"], b["numpy"]
    return {"random": a["random"] == b["random"],
            "numpy": na[0] == nb[0] and bool(np.array_equal(na[1], nb[1])) and tuple(na[2:]) == tuple(nb[2:]),
            "torch": torch.equal(a["torch"], b["torch"])}


@probe
def random_configs(ns: dict, name: str, space: dict, calls: list[dict]) -> dict:
    """``name(space, **call)`` for each call (its ``n`` and maybe ``seed``), the global generators seeded first and
    stirred between calls: the results, whether each call left the global states of random, numpy and torch as
    they were, and whether ``space`` is unchanged."""
    fn = lookup(ns, name)
    results, untouched = [], {"random": True, "numpy": True, "torch": True}
    random.seed(1234)
    np.random.seed(1234)
    torch.manual_seed(1234)
    for i, call in enumerate(calls):
        before = _global_states()
        results.append(export(fn(space, **call)))
        same = _same_states(before, _global_states())
        untouched = {k: untouched[k] and same[k] for k in untouched}
        random.random(), np.random.rand(), torch.rand(1)  # the global states differ from call to call
    return {"results": results, "untouched": untouched, "space": export(space)}


# -- run_experiments ----------------------------------------------------------------------------------------


class Failed(RuntimeError):
    """What the harness's train_and_evaluate raises for a config it is told to fail on."""


@probe
def experiments(ns: dict, name: str, configs: list, outcomes: list, existing: list[str]) -> dict:
    """``name(configs, train_and_evaluate, log_path)`` with a ``train_and_evaluate`` that gives the i-th call
    ``outcomes[i]`` (``{"metrics": {...}}`` to return, ``{"error": message}`` to raise) and a log file in the
    sandbox's temporary folder that already holds the lines ``existing``: the calls it received, what it
    returned, and the log's lines afterwards."""
    fn = lookup(ns, name)
    folder = tempfile.mkdtemp(prefix="experiments-")
    path = os.path.join(folder, "runs.jsonl")
    with open(path, "w") as f:
        f.writelines(line + "\n" for line in existing)
    calls: list = []

    def train_and_evaluate(config: Any) -> dict:
        calls.append(export(config))
        outcome = outcomes[min(len(calls), len(outcomes)) - 1]
        if "error" in outcome:
            raise Failed(outcome["error"])
        return dict(outcome["metrics"])

    try:
        value = fn(configs, train_and_evaluate, path)
        with open(path) as f:
            text = f.read(200_000)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"value": export(value), "calls": calls, "text": text, "configs": export(configs)}


# -- EarlyStopping ------------------------------------------------------------------------------------------


def _number(value: Any) -> Any:
    """A real number of any kind as a float (None stays None); anything else as exported."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return value if type(value) is int else float(value)
    return export(value)


@probe
def early_stopping(ns: dict, name: str, kwargs: dict, losses: list[float]) -> dict:
    """``name(**kwargs)``, then ``step(loss)`` for each loss: ``best`` and ``best_epoch`` before any call and after
    each, and what each call returned."""
    stopper = lookup(ns, name)(**kwargs)
    report: dict[str, Any] = {"before": {"best": _number(getattr(stopper, "best", "missing")),
                                         "best_epoch": _number(getattr(stopper, "best_epoch", "missing"))},
                              "calls": []}
    for loss in losses:
        value = stopper.step(loss)
        if isinstance(value, (np.bool_, torch.Tensor)) and np.size(value) == 1:
            value = bool(value)
        report["calls"].append({"returned": export(value),
                                "best": _number(getattr(stopper, "best", "missing")),
                                "best_epoch": _number(getattr(stopper, "best_epoch", "missing"))})
    return report


# -- training_state -----------------------------------------------------------------------------------------

OPTIMIZERS = {"adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
              "sgd_momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9)}


def _epoch(model: nn.Module, optimizer: torch.optim.Optimizer, batches: list) -> None:
    for x, y in batches:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def _staged(fn: Any, *args: Any) -> tuple[Any, str | None]:
    """``fn(*args)`` and None, or None and what it raised (NotImplementedError goes on up)."""
    try:
        return fn(*args), None
    except NotImplementedError:
        raise
    except Exception as exc:
        return None, summary(exc)


@probe
def resume(ns: dict, name: str, spec: list, state: dict, other: dict, batches: list, kind: str, lr: float,
           epochs: int, saved_at: int, config: dict) -> dict:
    """Train ``build(spec, state)`` with ``kind`` for ``epochs`` epochs straight through; and again, calling
    ``save_training_state(path, model, optimizer, saved_at, config)`` after ``saved_at`` epochs, then
    ``load_training_state(path, model, optimizer)`` into a fresh model (``other``'s weights) and a fresh optimizer,
    and training those on: both final parameters, the file's contents and what loading returned."""
    save, load = lookup(ns, "save_training_state"), lookup(ns, "load_training_state")
    batches = [tuple(b) for b in batches]
    straight = build(spec, state)
    optimizer = OPTIMIZERS[kind](straight.parameters(), lr)
    for _ in range(epochs):
        _epoch(straight, optimizer, batches)
    first = build(spec, state)
    first_optimizer = OPTIMIZERS[kind](first.parameters(), lr)
    for _ in range(saved_at):
        _epoch(first, first_optimizer, batches)
    folder = tempfile.mkdtemp(prefix="training-state-")
    path = os.path.join(folder, "state.pt")
    report: dict[str, Any] = {"straight": export(dict(straight.state_dict()))}
    try:
        _, report["save_error"] = _staged(save, path, first, first_optimizer, saved_at, dict(config))
        if report["save_error"] is not None:
            return report
        report["file"] = _file(path)
        second = build(spec, other)
        second_optimizer = OPTIMIZERS[kind](second.parameters(), lr)
        value, report["load_error"] = _staged(load, path, second, second_optimizer)
        if report["load_error"] is not None:
            return report
        report["returned"] = export(value)
        report["model_loaded"] = all(torch.equal(a, b) for a, b in
                                     zip(first.state_dict().values(), second.state_dict().values()))
        report["optimizer_loaded"] = len(second_optimizer.state) > 0
        for _ in range(saved_at, epochs):
            _epoch(second, second_optimizer, batches)
        report["resumed"] = export(dict(second.state_dict()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def _file(path: str) -> dict:
    """Whether ``path`` exists and ``torch.load(path, weights_only=True)`` reads it; what it holds, in outline."""
    if not os.path.exists(path):
        return {"exists": False}
    try:
        data = torch.load(path, weights_only=True)
    except Exception as exc:
        return {"exists": True, "readable": False, "error": summary(exc)}
    outline: dict[str, Any] = {"exists": True, "readable": True, "class": _class(data)}
    if isinstance(data, dict):
        outline["keys"] = [str(k) for k in data][:50]
    return outline
