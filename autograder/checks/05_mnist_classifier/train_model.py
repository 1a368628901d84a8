"""The hidden checks of train_model, on the grader's small model (harness/assignments/05_mnist_classifier.py), never the student's."""
import functools
import math

import pytest
import torch
import torch.nn.functional as F

from autograder.check import a_class, fail, flat, graded
from autograder.data import mnist
from autograder.harness.probes import build
from autograder.harness.training import normalise

from ._common import random_state

TRAIN_SPEC = [["flatten"], ["linear", 784, 10]]
TRAIN_STATE = random_state(TRAIN_SPEC, seed=520)
TRAIN_N, TRAIN_BATCH = 512, 64   # 8 batches per epoch
LOSS_RATIO = 0.9                 # the loss after training must be below this fraction of the loss before


@functools.cache
def train_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The first MNIST training images, normalized like get_transform(), and their labels."""
    images, labels = mnist(train=True)
    return normalise(images[:TRAIN_N]), labels[:TRAIN_N].clone()


def train_run(student, epochs: int, device: str | None) -> dict:
    images, labels = train_data()
    return student.probe("train_run", "train_model", spec=TRAIN_SPEC, state=TRAIN_STATE, images=images,
                         labels=labels, batch_size=TRAIN_BATCH, epochs=epochs, device=device)


@pytest.fixture(scope="module")
def trained_three(student) -> dict:
    """train_model(model, loader, 3) on a linear model left in eval mode."""
    return train_run(student, 3, None)


@pytest.fixture(scope="module")
def trained_one(student) -> dict:
    """train_model(model, loader, 1, device="cpu")."""
    return train_run(student, 1, "cpu")


def training_loss(state: dict[str, torch.Tensor]) -> float:
    images, labels = train_data()
    with torch.no_grad():
        return F.cross_entropy(build(TRAIN_SPEC, state).eval()(images), labels).item()


def moved(data: dict) -> bool:
    return not torch.equal(flat(data["state"], torch.float64), flat(TRAIN_STATE, torch.float64))


STEP_HINT = ("for each batch: optimizer.zero_grad(), loss = loss_fn(model(images), labels), loss.backward(), "
             "optimizer.step(), with the optimizer built over model.parameters()")


@graded("train_model")
def test_train_returns_model(trained_three):
    """returns the model it was given, trained in place"""
    returned = trained_three["returned"]
    if not moved(trained_three):
        if returned not in ("model", "None"):
            fail(f"train_model returned {a_class(returned)} and left the model it was given unchanged: train that "
                 "model itself, in place (no copy), and return it")
        fail("the model's parameters did not change: " + STEP_HINT)
    if returned != "model":
        fail(f"train_model returned {a_class(returned)}: return the model it was given (trained in place)")


@graded("train_model")
def test_train_lowers_loss(trained_three):
    """lowers the training loss clearly in 3 epochs of 8 batches"""
    if not moved(trained_three):
        fail("the model's parameters did not change: " + STEP_HINT)
    before, after = training_loss(TRAIN_STATE), training_loss(trained_three["state"])
    if not math.isfinite(after):
        fail("after train_model the model's loss is NaN or infinite: is the learning rate far too large?")
    if not after <= LOSS_RATIO * before:
        fail(f"3 epochs of train_model took the training loss of a linear model on {TRAIN_N} MNIST images only from "
             f"{before:.3f} to {after:.3f}: minimise nn.CrossEntropyLoss() on the logits and labels, with a "
             "working learning rate (Adam with lr=1e-3 is a robust default)")


def expect_epochs(data: dict, epochs: int, call: str) -> None:
    passes, batches = data["passes"], data["batches"]
    if not data["backward"] and data["returned"] not in ("model", "None"):
        fail(f"{call} returned {a_class(data['returned'])} and never trained the model it was given: train that "
             "model itself, in place (no copy), and return it")
    complete = sum(p == batches for p in passes)
    if complete != epochs:
        if passes and max(passes) < batches:
            fail(f"{call} never drew all {batches} batches of the loader in one pass (at most {max(passes)}): "
                 "iterate over every batch in each epoch, without break")
        fail(f"{call} went over all {batches} batches of the loader {complete} time(s): run exactly `epochs` "
             "passes, `for epoch in range(epochs):`, each over the whole loader")
    if data["backward"] < epochs * batches:
        fail(f"{call} ran backward() {data['backward']} time(s) for {epochs * batches} batches: compute the loss "
             "and call loss.backward() (then optimizer.step()) for every batch")


@graded("train_model")
def test_train_epochs(trained_three):
    """with epochs=3, trains on every batch of the loader in each of 3 passes"""
    expect_epochs(trained_three, 3, "train_model(model, loader, 3)")


@graded("train_model")
def test_train_one_epoch_on_device(trained_one):
    """with epochs=1 and device="cpu", trains on every batch in exactly one pass"""
    expect_epochs(trained_one, 1, 'train_model(model, loader, 1, device="cpu")')


@graded("train_model")
def test_train_zero_grad(trained_three):
    """clears the gradients before each backward pass"""
    if trained_three["accumulated"]:
        fail(f"at {trained_three['accumulated']} of {trained_three['backward']} backward passes the gradients of "
             "the previous batch were still there, so they added up: call optimizer.zero_grad() before each "
             "loss.backward()")


@graded("train_model")
def test_train_mode(trained_three):
    """trains the model in train mode (it may arrive in eval mode)"""
    forwards = [f for f in trained_three["forwards"] if f["grad_enabled"]]
    if not forwards:
        fail("train_model never ran the model with gradients enabled: compute model(images) for each batch "
             "(outside torch.no_grad())")
    if not all(f["training"] for f in forwards):
        fail("the model was in eval mode while training: call model.train() before the loop (a model may arrive in "
             "eval mode, e.g. after predict), and again after any evaluation inside it")


@graded("train_model")
def test_train_leaves_data(trained_three):
    """leaves the loader's images and labels unchanged"""
    if not (trained_three["images_unchanged"] and trained_three["labels_unchanged"]):
        fail("train_model changed the loader's data in place: leave the images and labels as they are")
