"""The hidden checks of test_accuracy: the grader trains the student's own model, and measures its accuracy itself."""
import pytest
import torch

from autograder.check import CheckFailed, TimedOut, expect_tensor, fail, graded
from autograder.data import mnist

from ._common import MAX_PARAMETERS

EPOCHS, MAX_EPOCHS = 2, 10  # the notebook's EPOCHS, if it sets one, replaces the default
BATCH_SIZE = 128
THRESHOLDS = (0.90, 0.95, 0.97)  # one point for each accuracy reached; full marks at >= 97%


@pytest.fixture(scope="module")
def trained(student) -> dict:
    """Train build_model() with train_model on MNIST's training set in the sandbox; score it here."""
    images, labels = mnist(train=True)
    test_images, test_labels = mnist(train=False)
    budget = student.limits.train_seconds
    try:
        data = student.probe("train_and_predict", "test_accuracy", seconds=budget, train_images=images,
                             train_labels=labels, test_images=test_images, epochs=EPOCHS, max_epochs=MAX_EPOCHS,
                             batch_size=BATCH_SIZE, max_parameters=MAX_PARAMETERS,
                             threads=student.limits.train_threads)
    except TimedOut:
        raise CheckFailed(f"building, training (EPOCHS epochs of 60,000 images) and predicting did not finish "
                          f"within the {budget:g} s budget: use a smaller model, fewer EPOCHS or fewer steps "
                          f"per epoch") from None
    epochs = data.get("epochs")
    if type(epochs) is not int or not 1 <= epochs <= MAX_EPOCHS:
        fail(f"EPOCHS is {epochs!r}: set it to a whole number from 1 to {MAX_EPOCHS}, or delete it to train for "
             f"{EPOCHS} epochs")
    if data["model"] is not None:
        fail(f"build_model() returned {data['model']}, expected an nn.Module")
    if data["parameters"] > MAX_PARAMETERS:
        fail(f"build_model() has {data['parameters']:,} parameters, over the limit of {MAX_PARAMETERS:,}")
    predictions = expect_tensor(data["predictions"], (len(test_labels),), torch.int64,
                                what="predict(model, test_images)", hint="one int64 label per image")
    return {**data, "accuracy": (predictions == test_labels).double().mean().item()}


@graded("test_accuracy")
def test_trains_within_budget(trained, student, record_property):
    """builds a model of at most 5 million parameters that trains within the time budget"""
    record_property("feedback", f"{trained['parameters']:,} parameters, trained in {trained['seconds']:.0f} s "
                                f"on {student.limits.train_threads} CPU thread(s)")
    record_property("leaderboard", {"name": "Test accuracy", "value": round(trained["accuracy"], 4)})


@pytest.mark.parametrize("threshold", THRESHOLDS, ids=[f"{s:.0%}" for s in THRESHOLDS])
@graded("test_accuracy")
def test_accuracy_reaches(trained, threshold, record_property):
    """reaches {threshold:.0%} test accuracy when the grader trains the model"""
    record_property("feedback", f"test accuracy {trained['accuracy']:.2%} after {trained['epochs']} epochs")
    if trained["accuracy"] < threshold:
        fail(f"test accuracy {trained['accuracy']:.2%} after {trained['epochs']} epochs ({trained['seconds']:.0f} s "
             f"of training) is below {threshold:.0%}: the notebook's accuracy cell measures the same number; "
             f"try more EPOCHS or a CNN")
