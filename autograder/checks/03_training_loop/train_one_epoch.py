"""The hidden checks of train_one_epoch."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograder.check import close, expect_float, expect_model_called, expect_number, fail, flat, graded
from autograder.harness.probes import build

from ._common import SPEC, TOL, batches, dataset, initial_state, reference_epoch

EPOCH_STATE, EPOCH_DATA = initial_state(10), dataset(10, 4, seed=20)  # batches of 4, 4 and 2
EPOCH_LR, EPOCH_MOMENTUM = 0.5, 0.9


@pytest.fixture(scope="module")
def epoch_at_rest(student) -> dict:
    """train_one_epoch with lr=0: the parameters stay put, so the mean loss is known whatever the update."""
    return student.probe("train_epoch", "train_one_epoch", spec=SPEC, state=EPOCH_STATE, data=EPOCH_DATA, lr=0.0,
                         momentum=0.0)


@pytest.fixture(scope="module")
def epoch_trained(student) -> dict:
    """train_one_epoch with SGD and momentum, on a model left in eval mode."""
    return student.probe("train_epoch", "train_one_epoch", spec=SPEC, state=EPOCH_STATE, data=EPOCH_DATA,
                         lr=EPOCH_LR, momentum=EPOCH_MOMENTUM, device="cpu")


def reference_trained(clear: bool) -> tuple[torch.Tensor, float]:
    """The parameters after one epoch with SGD and momentum (zero_grad or not), and its mean loss."""
    model = build(SPEC, EPOCH_STATE)
    loss = reference_epoch(model, EPOCH_DATA, torch.optim.SGD(model.parameters(), lr=EPOCH_LR,
                                                              momentum=EPOCH_MOMENTUM), clear)
    return flat(model.state_dict()), loss


def trained_state(clear: bool) -> torch.Tensor:
    return reference_trained(clear)[0]


@graded("train_one_epoch")
def test_epoch_returns_float(epoch_at_rest):
    """returns a Python float"""
    expect_float(epoch_at_rest["value"], what="the value train_one_epoch returned",
                 hint="accumulate loss.item(), a Python number, rather than the loss tensors")


def losses_at_rest() -> tuple[torch.Tensor, torch.Tensor]:
    """Each batch's mean loss under EPOCH_STATE, and each batch's size."""
    model = build(SPEC, EPOCH_STATE)
    with torch.no_grad():
        losses = torch.tensor([F.cross_entropy(model(x), y).item() for x, y in batches(EPOCH_DATA)])
    return losses, torch.tensor([float(len(y)) for _, y in batches(EPOCH_DATA)])


def mean_loss_at_rest() -> float:
    losses, sizes = losses_at_rest()
    return ((losses * sizes).sum() / sizes.sum()).item()


@graded("train_one_epoch")
def test_epoch_mean_loss(epoch_at_rest):
    """returns the mean loss per example, each batch weighted by its size"""
    losses, sizes = losses_at_rest()
    expect_number(epoch_at_rest["value"], ((losses * sizes).sum() / sizes.sum()).item(), rtol=1e-5, atol=1e-6,
                  what="the mean loss train_one_epoch returned (for lr=0, so the parameters stay put)",
                  hint="add up loss.item() * batch size over the batches and divide by the number of examples",
                  mistakes={
                      "it looks like the batch losses were averaged without weighting: the last batch is smaller, "
                      "so weight each batch's loss by its size": losses.mean().item(),
                      "it looks like the batch losses were summed: weight each by its batch size and divide by the "
                      "number of examples": losses.sum().item(),
                      "it looks like the total over all examples was not divided by the number of examples":
                          (losses * sizes).sum().item(),
                      "it looks like only the last batch's loss was returned": losses[-1].item()})


@graded("train_one_epoch")
def test_epoch_updates(epoch_trained):
    """updates the parameters like zero_grad, forward, loss, backward, step for each batch"""
    params, expected = flat(epoch_trained["state"]), trained_state(clear=True)
    if close(params, expected, **TOL):
        return
    events, n = epoch_trained["events"], len(batches(EPOCH_DATA))
    if events.count("step") != n:
        fail(f"optimizer.step() was called {events.count('step')} time(s) for {n} batches: step once per batch, "
             "after backward()")
    if events.count("backward") != n:
        fail(f"backward() ran {events.count('backward')} time(s) for {n} batches: call loss.backward() once per batch")
    if close(params, trained_state(clear=False), **TOL):
        fail("the parameters after one epoch are what they would be without optimizer.zero_grad(): the gradients "
             "of earlier batches were added to each new one. Call optimizer.zero_grad() before each backward()")
    if close(params, flat(EPOCH_STATE), **TOL):
        fail("the parameters did not change, although step() ran once per batch: are the gradients cleared between "
             "backward() and step()? Call optimizer.zero_grad() before the forward pass (or right after step())")
    fail("the parameters after one epoch differ from a correct epoch (zero_grad, forward, loss, backward, step for "
         "each batch, in that order): did you call optimizer.zero_grad() before each backward()?")


@graded("train_one_epoch")
def test_epoch_loss_while_training(epoch_trained, epoch_at_rest):
    """records the loss of each training step: one forward pass per batch, its loss taken before the step"""
    calls, n = len(epoch_trained["forwards"]), len(batches(EPOCH_DATA))
    if calls > n:
        fail(f"train_one_epoch called the model {calls} times for {n} batches: make one forward pass per batch, "
             "and record the loss you call backward() on (loss.item()) rather than calling the model again, "
             "after the step or after the loop")
    expected_state, expected_loss = reference_trained(clear=True)
    at_rest = epoch_at_rest["value"]
    if not (close(flat(epoch_trained["state"]), expected_state, **TOL) and type(at_rest) in (int, float)
            and abs(at_rest - mean_loss_at_rest()) <= 1e-6 + 1e-5 * abs(at_rest)):
        return  # wrong updates or a wrong mean: charged to test_epoch_updates or test_epoch_mean_loss only
    expect_number(epoch_trained["value"], expected_loss, rtol=1e-5, atol=1e-6,
                  what="the mean loss train_one_epoch returned after an epoch of training (lr > 0)",
                  hint="return the mean of the losses computed in the epoch's own forward passes, each before its "
                       "step, weighted by batch size")


@graded("train_one_epoch")
def test_epoch_train_mode(epoch_trained):
    """runs the model in train mode"""
    forwards = epoch_trained["forwards"]
    expect_model_called(forwards, "train_one_epoch", "compute outputs = model(inputs) for each batch")
    if not all(f["training"] for f in forwards):
        fail("the model was in eval mode during train_one_epoch: call model.train() before the loop (a model "
             "may arrive in eval mode, for example after evaluate)")
