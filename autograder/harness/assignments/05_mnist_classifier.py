"""The sandbox side of 05_mnist_classifier: run the student's functions on objects the harness builds.

The grader sends plain data (uint8 images, layer specs, state dicts, tensors). These probes build PIL
images, models, loaders and datasets from it, record how the student's code uses them, and send back
what happened; the grader compares that with its own reference. Models come from the grader's specs,
never from the student's ``build_model``, so a mistake there is charged to ``build_model`` alone.
"""
from __future__ import annotations

import importlib.abc
import os
import shutil
import sys
import tempfile
import time
from typing import Any, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ..errors import ForbiddenCall, summary
from ..probes import build, lookup, probe
from ..training import normalise, shuffled_batches
from ..values import export


def _class(value: Any) -> str:
    return type(value).__name__


def _log_forwards(model: nn.Module) -> list[dict]:
    """A list that receives ``{"training", "grad_enabled"}`` at every forward call of ``model``."""
    log: list[dict] = []
    model.register_forward_pre_hook(
        lambda module, args: log.append({"training": module.training, "grad_enabled": torch.is_grad_enabled()}))
    return log


# -- get_transform ----------------------------------------------------------------------------------------


def _numbers(value: Any) -> list[float] | None:
    try:
        return [float(v) for v in torch.as_tensor(value, dtype=torch.float64).flatten()]
    except Exception:
        return None


def _steps(transform: Any) -> list[dict]:
    """Each step of a (possibly nested) Compose: its class name, and mean/std where it has them."""
    inner = getattr(transform, "transforms", None)
    if isinstance(inner, (list, tuple)):
        return [step for t in inner for step in _steps(t)]
    step = {"class": _class(transform)}
    if hasattr(transform, "mean") and hasattr(transform, "std"):
        step.update(mean=_numbers(transform.mean), std=_numbers(transform.std))
    return [step]


@probe
def transform_run(ns: dict, name: str, images: list[torch.Tensor]) -> dict:
    """``name()``, then the transform applied to a PIL image of each uint8 ``(H, W)`` array; its steps."""
    from PIL import Image

    transform = lookup(ns, name)()
    if not callable(transform):
        return {"callable": False, "class": _class(transform)}
    outputs = [export(transform(Image.fromarray(image.numpy()))) for image in images]
    return {"callable": True, "class": _class(transform), "steps": _steps(transform), "outputs": outputs}


# -- build_model ------------------------------------------------------------------------------------------


@probe
def model_run(ns: dict, name: str, inputs: list[torch.Tensor]) -> dict:
    """Two calls of ``name()``: the first one's parameters, and its outputs in eval mode then in train mode."""
    first, second = lookup(ns, name)(), lookup(ns, name)()
    if not isinstance(first, nn.Module):
        return {"module": False, "class": _class(first)}
    params = list(first.parameters())
    shared = {id(p) for p in params} & {id(p) for p in second.parameters()} if isinstance(second, nn.Module) else set()
    report = {"module": True, "class": _class(first), "fresh": second is not first and not shared,
              "parameters": sum(p.numel() for p in params), "outputs": {}}
    for mode in ("eval", "train"):
        first.train(mode == "train")
        for x in inputs:
            key = f"{mode} {len(x)}"
            try:
                with torch.set_grad_enabled(mode == "train"):
                    out = first(x.clone())
            except Exception as exc:
                report["outputs"][key] = {"error": summary(exc)}
                continue
            report["outputs"][key] = {"value": export(out),
                                      "differentiable": isinstance(out, torch.Tensor) and out.requires_grad}
    return report


# -- train_model ------------------------------------------------------------------------------------------


class CountingLoader:
    """Wraps a DataLoader: counts the batches drawn in each pass; ``len`` and attributes as the loader's."""

    def __init__(self, loader: DataLoader):
        self.loader, self.passes = loader, []

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, attr: str) -> Any:
        if attr in ("loader", "passes"):
            raise AttributeError(attr)
        return getattr(self.loader, attr)

    def __iter__(self) -> Iterator:
        self.passes.append(0)
        index = len(self.passes) - 1
        for batch in self.loader:
            self.passes[index] += 1
            yield batch


def _watch_backward(model: nn.Module) -> dict:
    """Counts backward passes into ``model``'s first parameter, and those that found a gradient not cleared."""
    seen = {"backward": 0, "accumulated": 0, "fresh": None}
    param = next(model.parameters())

    def fresh(grad: torch.Tensor) -> None:
        seen["fresh"] = grad.detach().clone()

    def accumulated(p: torch.Tensor) -> None:
        seen["backward"] += 1
        if seen["fresh"] is not None and not torch.equal(p.grad, seen["fresh"]):
            seen["accumulated"] += 1

    param.register_hook(fresh)
    param.register_post_accumulate_grad_hook(accumulated)
    return seen


@probe
def train_run(ns: dict, name: str, spec: list, state: dict, images: torch.Tensor, labels: torch.Tensor,
              batch_size: int, epochs: int, device: str | None = None, seed: int = 0) -> dict:
    """``name(model, loader, epochs)`` on a model left in eval mode and a shuffled, counting DataLoader."""
    torch.manual_seed(seed)
    model = build(spec, state).eval()
    forwards = _log_forwards(model)
    backward = _watch_backward(model)
    data = TensorDataset(images.clone(), labels.clone())
    loader = CountingLoader(DataLoader(data, batch_size=batch_size, shuffle=True,
                                       generator=torch.Generator().manual_seed(seed)))
    kwargs = {} if device is None else {"device": device}
    value = lookup(ns, name)(model, loader, epochs, **kwargs)
    return {"returned": "model" if value is model else ("None" if value is None else _class(value)),
            "state": export(dict(model.state_dict())), "passes": loader.passes, "batches": len(loader),
            "forwards": forwards, "backward": backward["backward"], "accumulated": backward["accumulated"],
            "images_unchanged": torch.equal(data.tensors[0], images),
            "labels_unchanged": torch.equal(data.tensors[1], labels)}


# -- predict ----------------------------------------------------------------------------------------------


@probe
def predict_run(ns: dict, name: str, spec: list, state: dict, images: torch.Tensor) -> dict:
    """``name(model, images)`` on a model left in train mode; what it returned and how it ran the model."""
    model = build(spec, state).train()
    forwards = _log_forwards(model)
    given = images.clone()
    value = lookup(ns, name)(model, given)
    return {"value": export(value), "forwards": forwards, "images_unchanged": torch.equal(given, images),
            "state_unchanged": all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), state.values()))}


# -- confusion_matrix -------------------------------------------------------------------------------------


class _Refuse(importlib.abc.MetaPathFinder):
    """Refuses to import ``roots`` (and their submodules)."""

    def __init__(self, roots: frozenset[str]):
        self.roots = roots

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in self.roots:
            raise ForbiddenCall(f"'{fullname.split('.')[0]}' is not allowed here")
        return None


@probe
def call_without(ns: dict, name: str, args: list, kwargs: dict, libraries: list[str]) -> dict:
    """``name(*args, **kwargs)`` with ``libraries`` unavailable: importing them, or calling into them, raises."""
    fn = lookup(ns, name)
    roots = frozenset(libraries)
    hits: list[str] = []

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            module = frame.f_globals.get("__name__")
        elif event == "c_call":
            module = getattr(arg, "__module__", None)
        else:
            return
        if isinstance(module, str) and module.split(".")[0] in roots and module not in hits:
            hits.append(module)

    refuse = _Refuse(roots)
    inputs = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    sys.meta_path.insert(0, refuse)
    sys.setprofile(watch)
    try:
        value = fn(*inputs, **kwargs)
    finally:
        sys.setprofile(None)
        sys.meta_path.remove(refuse)
    if hits:
        raise ForbiddenCall(f"'{hits[0].split('.')[0]}' is not allowed here")
    return {"value": export(value)}


# -- checkpoint -------------------------------------------------------------------------------------------


def _file_contents(path: str) -> dict:
    """What ``torch.load(path, weights_only=True)`` finds in the file."""
    if not os.path.isfile(path):
        return {"exists": False}
    try:
        loaded = torch.load(path, weights_only=True)
    except Exception as exc:
        return {"exists": True, "readable": False, "error": type(exc).__name__}
    if isinstance(loaded, dict):
        return {"exists": True, "readable": True, "class": _class(loaded),
                "entries": {str(k): export(v) if isinstance(v, torch.Tensor) else {"class": _class(v)}
                            for k, v in loaded.items()}}
    return {"exists": True, "readable": True, "class": _class(loaded)}


@probe
def checkpoint_run(ns: dict, name: str, spec: list, state: dict, inputs: torch.Tensor, seed: int = 0) -> dict:
    """``save_checkpoint(model, path)`` then ``load_checkpoint(path)`` with ``build_model`` building ``spec``.

    The student's ``build_model`` is replaced while this runs, by one that builds the spec's model with fresh
    random weights, so a checkpoint is graded whatever the student's model is.
    """
    save, load = lookup(ns, "save_checkpoint"), lookup(ns, "load_checkpoint")
    built: list[nn.Module] = []

    def build_model() -> nn.Module:
        built.append(build(spec))
        return built[-1]

    saved_model = build(spec, state)
    folder = tempfile.mkdtemp(prefix="checkpoint-")
    path = os.path.join(folder, "model.pt")
    had, previous = "build_model" in ns, ns.get("build_model")
    ns["build_model"] = build_model
    try:
        report = {"stage": "save_checkpoint", "error": _staged(save, saved_model, path)}
        report["file"] = _file_contents(path)
        if report["error"] is None:
            torch.manual_seed(seed)
            loaded: list = []
            report.update(stage="load_checkpoint", error=_staged(lambda p: loaded.append(load(p)), path))
    finally:
        if had:
            ns["build_model"] = previous
        else:
            ns.pop("build_model", None)
        shutil.rmtree(folder, ignore_errors=True)
    if report["error"] is not None:
        return report
    loaded = loaded[0]
    report.update(loaded="None" if loaded is None else _class(loaded), module=isinstance(loaded, nn.Module),
                  from_build_model=any(loaded is m for m in built))
    if isinstance(loaded, nn.Module):
        saved_model.eval()
        loaded.eval()
        with torch.no_grad():
            report["outputs"] = {"saved": export(saved_model(inputs.clone())), "loaded": export(loaded(inputs.clone()))}
    return report


def _staged(fn: Any, *args: Any) -> str | None:
    """Call ``fn``; None, or what it raised (NotImplementedError goes on up, so the grader says so)."""
    try:
        fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:
        return summary(exc)
    return None


# -- split_train_val --------------------------------------------------------------------------------------


def _part(part: Any, dataset: TensorDataset) -> dict:
    """A split's class, its ``.indices`` and the values of its items (the dataset's values are their indices)."""
    report: dict[str, Any] = {"class": _class(part), "subset": isinstance(part, torch.utils.data.Subset),
                              "of_dataset": getattr(part, "dataset", None) is dataset}
    try:
        report["indices"] = torch.as_tensor([int(i) for i in part.indices], dtype=torch.int64)
    except Exception:
        report["indices"] = None
    try:
        report["values"] = torch.as_tensor([int(part[i][0]) for i in range(len(part))], dtype=torch.int64)
    except Exception as exc:
        report["values"] = None
        report["error"] = summary(exc)
    return report


@probe
def split_run(ns: dict, name: str, n: int, calls: list[dict]) -> dict:
    """``name(dataset, **kwargs)`` for each ``kwargs`` in ``calls``, on ``TensorDataset(arange(n))``: {"splits": [...]}."""
    dataset = TensorDataset(torch.arange(n))
    fn = lookup(ns, name)
    results = []
    for kwargs in calls:
        value = fn(dataset, **kwargs)
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            results.append({"pair": False, "class": _class(value),
                            "length": len(value) if isinstance(value, (tuple, list)) else None})
            continue
        results.append({"pair": True, "class": _class(value), "train": _part(value[0], dataset),
                        "val": _part(value[1], dataset)})
    return {"splits": results}


# -- test_accuracy ----------------------------------------------------------------------------------------


@probe
def train_and_predict(ns: dict, name: str, train_images: torch.Tensor, train_labels: torch.Tensor,
                      test_images: torch.Tensor, epochs: int, max_epochs: int, batch_size: int,
                      max_parameters: int, threads: int, seed: int = 0) -> dict:
    """build_model, train_model for the notebook's ``EPOCHS`` (else ``epochs``) on the training set, predict on
    test images (labels stay with the grader). 05's accuracy cell does the same, step for step."""
    # all three first: without one, training cannot score, and the grader names the missing one at once
    build_model, train_model, predict = (lookup(ns, n) for n in ("build_model", "train_model", "predict"))
    epochs = ns.get("EPOCHS", epochs)
    if type(epochs) is not int or not 1 <= epochs <= max_epochs:
        return {"epochs": export(epochs)}
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    model = build_model()
    if not isinstance(model, torch.nn.Module):
        return {"model": export(model), "epochs": epochs}
    count = sum(p.numel() for p in model.parameters())
    if count > max_parameters:
        return {"model": None, "parameters": count, "epochs": epochs}
    loader = shuffled_batches(normalise(train_images), train_labels, batch_size, seed)
    started = time.monotonic()
    trained = train_model(model, loader, epochs)
    seconds = time.monotonic() - started
    trained = trained if isinstance(trained, torch.nn.Module) else model
    predictions = predict(trained, normalise(test_images))
    return {"model": None, "parameters": count, "epochs": epochs, "seconds": seconds,
            "predictions": export(predictions)}
