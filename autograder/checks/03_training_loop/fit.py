"""The hidden checks of fit, graded with train_one_epoch and evaluate replaced by stubs."""
from __future__ import annotations

import pytest
import torch

from autograder.check import close, fail, flat, graded, kind_of
from autograder.harness.probes import build

from ._common import SPEC, TOL, dataset, initial_state, reference_accuracy, reference_epoch

FIT_STATE, FIT_LR, EPOCHS = initial_state(50), 0.5, 3
FIT_TRAIN, FIT_VAL = dataset(10, 4, seed=60), dataset(9, 5, seed=70)
CANNED = {"train_loss": [3.0, 2.5, 2.0, 1.5, 1.0, 0.5], "val_accuracy": [0.125, 0.25, 0.375, 0.5, 0.625, 0.75]}
KEYS = ("train_loss", "val_accuracy")
PHASES = {"train_one_epoch": "train", "evaluate": "val"}


@pytest.fixture(scope="module")
def fitted(student) -> dict:
    """fit with train_one_epoch and evaluate replaced by stubs; if it calls neither, a real run of its own loop."""
    args = {"spec": SPEC, "state": FIT_STATE, "train": FIT_TRAIN, "val": FIT_VAL, "lr": FIT_LR, "epochs": EPOCHS}
    run = student.probe("fit_run", "fit", canned=CANNED, **args)
    stubbed = bool(run["calls"])
    return {**(run if stubbed else student.probe("fit_run", "fit", **args)), "stubbed": stubbed}


def reference_fit(validate_on: dict) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """The final parameters and the history of a correct fit that validates on ``validate_on``."""
    model = build(SPEC, FIT_STATE)
    optimizer = torch.optim.SGD(model.parameters(), lr=FIT_LR)
    history = {"train_loss": [], "val_accuracy": []}
    for _ in range(EPOCHS):
        history["train_loss"].append(reference_epoch(model, FIT_TRAIN, optimizer))
        history["val_accuracy"].append(reference_accuracy(model, validate_on))
    return flat(model.state_dict()), history


def numbers(values: object) -> torch.Tensor | None:
    """A list of Python numbers as a float64 vector; None for anything else."""
    if isinstance(values, list) and all(type(v) in (int, float) for v in values):
        return torch.tensor(values, dtype=torch.float64)
    return None


def expected_history(fitted: dict) -> dict[str, list[float]]:
    return {k: v[:EPOCHS] for k, v in CANNED.items()} if fitted["stubbed"] else reference_fit(FIT_VAL)[1]


@graded("fit")
def test_fit_keys(fitted):
    """returns a dict with exactly the keys 'train_loss' and 'val_accuracy'"""
    value = fitted["value"]
    if not isinstance(value, dict):
        fail(f"fit returned a {kind_of(value)}, expected a dict {{'train_loss': [...], 'val_accuracy': [...]}}")
    if set(value) != set(KEYS):
        fail(f"fit's dict has the keys {sorted(value)}, expected exactly 'train_loss' and 'val_accuracy'")


@graded("fit")
def test_fit_order(fitted):
    """calls train_one_epoch, then evaluate, once each per epoch"""
    if not fitted["stubbed"]:
        if not close(flat(fitted["state"]), reference_fit(FIT_VAL)[0], **TOL):
            fail(f"fit calls neither train_one_epoch nor evaluate, and the model after fit(..., epochs={EPOCHS}) "
                 f"differs from {EPOCHS} epochs of training on train_loader: call train_one_epoch, then evaluate, "
                 "once each per epoch")
        return
    functions = [c["function"] for c in fitted["calls"]]
    if functions == ["train_one_epoch", "evaluate"] * EPOCHS:
        return
    trained, evaluated = functions.count("train_one_epoch"), functions.count("evaluate")
    if (trained, evaluated) != (EPOCHS, EPOCHS):
        fail(f"fit(..., epochs={EPOCHS}) called train_one_epoch {trained} time(s) and evaluate {evaluated} time(s): "
             "call each once per epoch")
    if functions[0] == "evaluate":
        fail("fit called evaluate before train_one_epoch: in each epoch, train first, then evaluate the trained model")
    fail("fit should alternate: train_one_epoch, then evaluate, in every epoch")


@graded("fit")
def test_fit_arguments(fitted):
    """trains on train_loader and validates on val_loader, with fit's model, loss_fn and optimizer"""
    if not fitted["stubbed"]:
        value = fitted["value"]
        accuracies = numbers(value.get("val_accuracy")) if isinstance(value, dict) else None
        if accuracies is not None and close(accuracies, numbers(reference_fit(FIT_TRAIN)[1]["val_accuracy"]),
                                            **TOL):
            fail("the validation accuracies were measured on the training data: evaluate on val_loader")
        return
    for call in fitted["calls"]:
        function, loader = call["function"], call["loader"]
        if loader != PHASES[function]:
            where = {"train": "train_loader", "val": "val_loader"}.get(loader, "something other than the loaders")
            fail(f"{function} was called on {where}: " +
                 ("train on train_loader" if function == "train_one_epoch" else "validate on val_loader"))
        missing = [k for k in ("model", "loss_fn", "optimizer") if call.get(k) is False]
        if missing:
            fail(f"{function} was not given fit's {' and '.join(missing)}: pass fit's arguments on unchanged")


@graded("fit")
def test_fit_history(fitted):
    """records one training loss and one validation accuracy per epoch, in epoch order"""
    value, expected = fitted["value"], expected_history(fitted)
    if not isinstance(value, dict):
        fail(f"fit returned a {kind_of(value)}, expected a dict of two lists")
    sources = (("what train_one_epoch returned", "what evaluate returned") if fitted["stubbed"] else
               ("the mean training loss of a correct run", "the validation accuracy of a correct run"))
    for key, source in zip(KEYS, sources):
        got = value.get(key)
        if not isinstance(got, list):
            fail(f"fit's {key!r} is {'missing' if got is None else 'a ' + kind_of(got)}: "
                 "record a list with one value per epoch")
        if len(got) != EPOCHS:
            fail(f"fit(..., epochs={EPOCHS}) recorded {len(got)} value(s) in {key!r}: record one per epoch")
        if not all(type(v) is float for v in got):
            fail(f"fit's {key!r} holds {', '.join(sorted({kind_of(v) for v in got}))} values, expected Python floats")
        if not close(numbers(got), numbers(expected[key]), **TOL):
            fail(f"fit's {key!r} does not hold {source} in each epoch, in epoch order")
