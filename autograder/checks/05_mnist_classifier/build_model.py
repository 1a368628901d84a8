"""The hidden checks of build_model."""
import pytest
import torch

from autograder.check import a_class, expect_tensor, fail, graded, randn

from ._common import MAX_PARAMETERS

MODEL_SIZES = (1, 7)
MODEL_INPUTS = [randn(n, 1, 28, 28, seed=510 + n) for n in MODEL_SIZES]


@pytest.fixture(scope="module")
def model_facts(student) -> dict:
    """Two calls of build_model(): the first one's parameter count and outputs in eval and in train mode."""
    data = student.probe("model_run", "build_model", inputs=MODEL_INPUTS)
    if not data["module"]:
        if data["class"] == "type":
            fail("build_model() returned a class, not a model: create an instance, e.g. return Net()")
        fail(f"build_model() returned {a_class(data['class'])}, expected an nn.Module (e.g. nn.Sequential(...))")
    return data


def model_output(data: dict, mode: str, n: int) -> torch.Tensor:
    out = data["outputs"][f"{mode} {n}"]
    what = f"build_model()(x) in {mode} mode, for x of shape ({n}, 1, 28, 28)"
    if "error" in out:
        fail(f"{what} raised {out['error']}: check each layer's input size (a Conv2d with kernel k and no padding "
             "turns a side of s pixels into s - k + 1, MaxPool2d(2) halves it; nn.Flatten() before nn.Linear)")
    value = out["value"]
    if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == n and value.shape[-1] != 10:
        fail(f"{what} has shape {tuple(value.shape)}, expected ({n}, 10): the last layer needs 10 outputs, one "
             "logit per digit")
    return expect_tensor(value, (n, 10), what=what, hint="one row of 10 logits per image (flatten before the "
                         "last nn.Linear, and do not squeeze the batch dimension)")


@graded("build_model")
def test_model_fresh(model_facts):
    """returns a new nn.Module on every call"""
    if not model_facts["fresh"]:
        fail("two calls of build_model() returned the same model (or models sharing parameters): build a new "
             "model inside build_model every time it is called")


@graded("build_model")
def test_model_parameter_count(model_facts):
    """has at most 5,000,000 parameters"""
    count = model_facts["parameters"]
    if count > MAX_PARAMETERS:
        fail(f"build_model() has {count:,} parameters, over the limit of {MAX_PARAMETERS:,}: use fewer or "
             "narrower layers (a small CNN needs far fewer)")
    if count == 0:
        fail("build_model() has no parameters: it cannot learn anything")


@graded("build_model")
def test_model_output_shape(model_facts):
    """maps (N, 1, 28, 28) float32 images to float32 logits (N, 10), for N = 1 and N = 7"""
    for n in MODEL_SIZES:
        model_output(model_facts, "eval", n)


@graded("build_model")
def test_model_train_mode(model_facts):
    """works in train mode too, with logits differentiable in its parameters"""
    n = MODEL_SIZES[-1]
    model_output(model_facts, "train", n)
    if not model_facts["outputs"][f"train {n}"]["differentiable"]:
        fail("in train mode the logits do not require grad, so no optimizer can train the model: do not detach "
             "them or compute them under torch.no_grad() inside the model")


@graded("build_model")
def test_model_finite(model_facts):
    """gives finite logits"""
    for n in MODEL_SIZES:
        if not torch.isfinite(model_output(model_facts, "eval", n)).all():
            fail(f"build_model()(x) gives NaN or infinite logits for x of shape ({n}, 1, 28, 28): look for a log of "
                 "0 or a division by zero in the model")
