"""The hidden checks of predict, on the grader's small model (harness/assignments/05_mnist_classifier.py), never the student's."""
import pytest
import torch

from autograder.check import expect_eval_mode, expect_model_called, expect_no_grad, expect_tensor, fail, graded, randn
from autograder.harness.probes import build

from ._common import random_state

PREDICT_SPEC = [["flatten"], ["linear", 784, 32], ["relu"], ["dropout", 0.5], ["linear", 32, 10]]
PREDICT_STATE = random_state(PREDICT_SPEC, seed=530, scale=2.0)
PREDICT_N = 2503  # not a multiple of any usual chunk size
PREDICT_IMAGES = randn(PREDICT_N, 1, 28, 28, seed=531)
MARGIN = 1e-4     # labels whose top two logits are closer than this are not compared


def reference_labels(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The argmax of the model's logits in eval mode, and where it is unambiguous."""
    with torch.no_grad():
        logits = build(PREDICT_SPEC, PREDICT_STATE).eval()(images)
    top2 = logits.topk(2, dim=1).values
    return logits.argmax(1), (top2[:, 0] - top2[:, 1]) > MARGIN


def predict_run(student, images: torch.Tensor) -> dict:
    return student.probe("predict_run", "predict", spec=PREDICT_SPEC, state=PREDICT_STATE, images=images)


@pytest.fixture(scope="module")
def predicted(student) -> dict:
    """predict(model, images) for 2,503 images, the model (with dropout) left in train mode."""
    return predict_run(student, PREDICT_IMAGES)


@pytest.fixture(scope="module")
def predicted_one(student) -> dict:
    return predict_run(student, PREDICT_IMAGES[:1])


def expect_labels(data: dict, n: int) -> torch.Tensor:
    value, what = data["value"], f"predict(model, images) for {n:,} image(s)"
    if isinstance(value, torch.Tensor) and tuple(value.shape) == (n, 10):
        fail(f"{what} returned one row of 10 scores per image: return the predicted label, the index of the "
             "largest logit (argmax over dim 1)")
    value = expect_tensor(value, (n,), torch.int64, what=what, hint="one label per image (argmax over dim 1, the "
                          "class dimension; keep the batch dimension even for one image)")
    return value


@graded("predict")
def test_predict_shape(predicted):
    """returns int64 labels of shape (N,) for N = 2,503 images"""
    expect_labels(predicted, PREDICT_N)


@graded("predict")
def test_predict_argmax(predicted):
    """returns the index of the largest logit of the model in eval mode"""
    value = expect_labels(predicted, PREDICT_N)
    expected, clear = reference_labels(PREDICT_IMAGES)
    wrong = ((value != expected) & clear).sum().item()
    if wrong:
        if any(f["training"] for f in predicted["forwards"]):
            fail(f"{wrong} of {PREDICT_N:,} labels differ from the model's predictions in eval mode: the model ran in "
                 "training mode, so dropout was active; call model.eval() before predicting")
        fail(f"{wrong} of {PREDICT_N:,} labels are not the argmax of the model's logits: return "
             "model(images).argmax(dim=1) for every image, in the order given")


@graded("predict")
def test_predict_one_image(predicted_one):
    """works for a single image (N = 1)"""
    value = expect_labels(predicted_one, 1)
    expected, clear = reference_labels(PREDICT_IMAGES[:1])
    if clear.item() and value.item() != expected.item() and not any(f["training"] for f in predicted_one["forwards"]):
        fail("for a single image the label is not the argmax of the model's logits")


@graded("predict")
def test_predict_eval_mode(predicted):
    """runs the model in eval mode"""
    expect_model_called(predicted["forwards"], "predict", "compute model(images)")
    expect_eval_mode(predicted["forwards"], "predict", fix="call model.eval() before the forward passes",
                     why="dropout and batch norm then behave differently")


@graded("predict")
def test_predict_no_grad(predicted):
    """runs the model without gradient tracking"""
    expect_model_called(predicted["forwards"], "predict", "compute model(images)")
    expect_no_grad(predicted["forwards"], "predict")


@graded("predict")
def test_predict_leaves_inputs(predicted):
    """leaves the images and the model's parameters unchanged"""
    if not predicted["images_unchanged"]:
        fail("predict modified the images in place: leave its inputs as they are")
    if not predicted["state_unchanged"]:
        fail("predict changed the model's parameters: it only runs the model (no training, no optimizer)")
