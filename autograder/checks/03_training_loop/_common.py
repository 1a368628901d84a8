"""Code that the hidden checks of 03_training_loop share: the models, data and references of train_one_epoch,
evaluate and fit."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from autograder.check import randn
from autograder.harness.probes import build

TOL = {"rtol": 1e-4, "atol": 1e-5}  # how close parameters and recorded numbers must come to the grader's run

SPEC = [["flatten"], ["linear", 12, 6], ["tanh"], ["linear", 6, 3]]  # inputs (N, 1, 3, 4), 3 classes
TEACHER = 110  # the seed of the model whose predictions are the labels


def initial_state(seed: int) -> dict[str, torch.Tensor]:
    return {k: randn(*v.shape, seed=seed + i, scale=0.8) for i, (k, v) in enumerate(build(SPEC).state_dict().items())}


def dataset(n: int, batch_size: int, seed: int) -> dict:
    """What the harness makes an unshuffled DataLoader of: random inputs labelled by a fixed random model.

    Labels that a model of the same shape can fit make the accuracy rise from epoch to epoch.
    """
    x = randn(n, 1, 3, 4, seed=seed)
    with torch.no_grad():
        labels = build(SPEC, initial_state(TEACHER))(x).argmax(1)
    return {"x": x, "y": labels, "batch_size": batch_size}


def batches(data: dict) -> list[tuple[torch.Tensor, torch.Tensor]]:
    size = data["batch_size"]
    return [(data["x"][i:i + size], data["y"][i:i + size]) for i in range(0, len(data["y"]), size)]


def reference_epoch(model: nn.Module, data: dict, optimizer: torch.optim.Optimizer, clear: bool = True) -> float:
    """One epoch of zero_grad (unless not ``clear``), forward, loss, backward, step per batch; the mean loss."""
    model.train()
    total = 0.0
    for x, y in batches(data):
        if clear:
            optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
    return total / len(data["y"])


def reference_accuracy(model: nn.Module, data: dict) -> float:
    with torch.no_grad():
        return (model(data["x"]).argmax(1) == data["y"]).double().mean().item()
