"""The hidden checks of evaluate."""
from __future__ import annotations

import pytest
import torch

from autograder.check import (close, expect_eval_mode, expect_float, expect_model_called, expect_no_grad, expect_number,
                              fail, flat, graded, randn)
from autograder.harness.probes import build

from ._common import SPEC, initial_state

EVAL_STATE = initial_state(30)
EVAL_RIGHT = torch.tensor([1, 1, 1, 1, 1, 0, 1, 0, 0, 0], dtype=torch.bool)  # in batches of 4: 4/4, 2/4, 0/2


def eval_data() -> dict:
    """Labels that the model gets right exactly where ``EVAL_RIGHT`` says, in uneven batches of 4."""
    x = randn(len(EVAL_RIGHT), 1, 3, 4, seed=40)
    with torch.no_grad():
        predicted = build(SPEC, EVAL_STATE)(x).argmax(1)
    return {"x": x, "y": torch.where(EVAL_RIGHT, predicted, (predicted + 1) % 3), "batch_size": 4}


EVAL_DATA = eval_data()


@pytest.fixture(scope="module")
def evaluated(student) -> dict:
    """evaluate on a model left in train mode."""
    return student.probe("evaluate_model", "evaluate", spec=SPEC, state=EVAL_STATE, data=EVAL_DATA, device="cpu")


@graded("evaluate")
def test_evaluate_accuracy(evaluated):
    """returns the fraction of all examples classified correctly"""
    per_batch = [r.double().mean().item() for r in EVAL_RIGHT.split(EVAL_DATA["batch_size"])]
    accuracy = EVAL_RIGHT.double().mean().item()
    expect_number(evaluated["value"], accuracy, rtol=0, atol=1e-6, what="the accuracy evaluate returned", mistakes={
        "it looks like the per-batch accuracies were averaged: the last batch is smaller, so count the correct "
        "predictions and the examples over all batches and divide at the end":
            sum(per_batch) / len(per_batch),
        "it looks like the number of correct predictions: divide by the number of examples": EVAL_RIGHT.sum().item(),
        "it looks like a percentage: return a fraction in [0, 1]": 100 * accuracy,
        "it looks like the error rate: count the predictions equal to the labels": 1 - accuracy,
        "it looks like only the last batch was counted": per_batch[-1]})


@graded("evaluate")
def test_evaluate_float(evaluated):
    """returns a Python float in [0, 1]"""
    value = expect_float(evaluated["value"], what="the value evaluate returned",
                         hint="divide Python numbers (use .item() on counts held in tensors)")
    if not 0.0 <= value <= 1.0:
        fail(f"evaluate returned {value}, outside [0, 1]: return the fraction of correct predictions")


@graded("evaluate")
def test_evaluate_eval_mode(evaluated):
    """runs the model in eval mode"""
    expect_model_called(evaluated["forwards"], "evaluate", "compute model(inputs) for each batch")
    expect_eval_mode(evaluated["forwards"], "evaluate", fix="call model.eval() before the loop (the model may arrive "
                     "in train mode, for example after train_one_epoch)")


@graded("evaluate")
def test_evaluate_no_grad(evaluated):
    """runs the model without gradient tracking"""
    expect_no_grad(evaluated["forwards"], "evaluate")


@graded("evaluate")
def test_evaluate_leaves_parameters(evaluated):
    """leaves the parameters unchanged and computes no gradients"""
    if not close(flat(evaluated["state"]), flat(EVAL_STATE), rtol=0, atol=0):
        fail("evaluate changed the parameters: it only measures the model (no optimizer, no step())")
    if evaluated["grads"]:
        fail(f"evaluate left gradients in {', '.join(evaluated['grads'])}: it must not call backward()")
