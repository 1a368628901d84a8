"""Hidden checks for 05_mnist_classifier.

test_accuracy trains the student's own build_model() with train_model and scores predict's labels here.
Every other name is checked on objects the harness builds (harness/mnist_probes.py): train_model, predict
and the checkpoint functions run on the grader's small models, never on the student's build_model, so a
mistake in one function is charged to that name only.
"""
import functools
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from autograder.check import (CheckFailed, StudentRaised, TimedOut, a_class, a_kind, classes, expect_close,
                              expect_eval_mode, expect_model_called, expect_no_grad, expect_tensor, expect_unchanged,
                              fail, flat, graded, randn, reraise_with_hint)
from autograder.data import mnist
from autograder.harness.mnist_probes import build
from autograder.harness.training import normalise

# -- test_accuracy: the grader trains the student's model and measures it itself --------------
EPOCHS = 2
BATCH_SIZE = 128
MAX_PARAMETERS = 5_000_000
THRESHOLDS = (0.90, 0.95, 0.97)  # one point for each accuracy reached; full marks at >= 97%


@pytest.fixture(scope="module")
def trained(student) -> dict:
    """Train build_model() with train_model on MNIST's training set in the sandbox; score it here."""
    images, labels = mnist(train=True)
    test_images, test_labels = mnist(train=False)
    budget = student.limits.train_seconds
    try:
        data = student.probe("train_and_predict", "test_accuracy", seconds=budget, train_images=images,
                             train_labels=labels, test_images=test_images, epochs=EPOCHS, batch_size=BATCH_SIZE,
                             max_parameters=MAX_PARAMETERS, threads=student.limits.train_threads)
    except TimedOut:
        raise CheckFailed(f"building, training ({EPOCHS} epochs of 60,000 images) and predicting did not finish "
                          f"within the {budget:g} s budget: use a smaller model or fewer steps per epoch") from None
    if data["model"] is not None:
        fail(f"build_model() returned {data['model']}, expected an nn.Module")
    if data["parameters"] > MAX_PARAMETERS:
        fail(f"build_model() has {data['parameters']:,} parameters, over the limit of {MAX_PARAMETERS:,}")
    predictions = expect_tensor(data["predictions"], (len(test_labels),), torch.int64,
                                what="predict(model, test_images)", hint="one int64 label per image")
    return {"accuracy": (predictions == test_labels).double().mean().item(), **data}


@graded("test_accuracy")
def test_trains_within_budget(trained, student, record_property):
    """builds a model of at most 5 million parameters that trains within the time budget"""
    record_property("feedback", f"{trained['parameters']:,} parameters, trained in {trained['seconds']:.0f} s "
                                f"on {student.limits.train_threads} CPU thread(s)")


@pytest.mark.parametrize("threshold", THRESHOLDS, ids=[f"{s:.0%}" for s in THRESHOLDS])
@graded("test_accuracy")
def test_accuracy_reaches(trained, threshold, record_property):
    """reaches {threshold:.0%} test accuracy when the grader trains the model"""
    record_property("feedback", f"test accuracy {trained['accuracy']:.2%} after {EPOCHS} epochs")
    if trained["accuracy"] < threshold:
        fail(f"test accuracy {trained['accuracy']:.2%} after {EPOCHS} epochs ({trained['seconds']:.0f} s of "
             f"training) is below {threshold:.0%}")


# -- helpers for the function checks -----------------------------------------------------------------
# Each name below is checked on objects the harness builds from the data here (harness/mnist_probes.py):
# models come from these specs, never from the student's build_model, so a mistake is charged to one name.
def random_state(spec: list, seed: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    """A state dict for ``build(spec)``: default-init-sized random weights; BatchNorm statistics made non-trivial."""
    state = {}
    for i, (key, value) in enumerate(build(spec).state_dict().items()):
        if value.dtype == torch.int64:          # num_batches_tracked
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(value.shape, generator=torch.Generator().manual_seed(seed + i))
        else:
            fan_in = value[0].numel() if value.dim() > 1 else 4
            state[key] = randn(*value.shape, seed=seed + i, scale=scale / math.sqrt(fan_in))
    return state


# -- get_transform ---------------------------------------------------------------------------------------
IMAGES = {"black": torch.zeros(28, 28, dtype=torch.uint8), "white": torch.full((28, 28), 255, dtype=torch.uint8),
          "random": torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(500), dtype=torch.uint8)}


@pytest.fixture(scope="module")
def transformed(student) -> dict:
    """get_transform() applied to PIL images of IMAGES, and its steps."""
    try:
        data = student.probe("transform_run", "get_transform", images=list(IMAGES.values()))
    except StudentRaised as exc:
        hint = ("transforms run left to right: ToTensor() must come first, then Normalize, which works on float "
                "tensors" if exc.exc_type in ("TypeError", "AttributeError") else "")
        reraise_with_hint(exc, hint)
    if not data["callable"]:
        fail(f"get_transform() returned {a_class(data['class'])}, expected a transform (a callable such as "
             "transforms.Compose([...]))")
    data["by_image"] = dict(zip(IMAGES, data["outputs"]))
    return data


def normalize_constants(data: dict) -> tuple[float, float, bool]:
    """(mean, std, from_normalize): the student's own Normalize's, or, without one, what the outputs imply."""
    steps = [s for s in data["steps"] if s["class"] == "Normalize"]
    if len(steps) > 1:
        fail(f"the transform has {len(steps)} Normalize steps: normalize once, after ToTensor")
    if steps and steps[0]["mean"] and steps[0]["std"]:
        means, stds = set(steps[0]["mean"]), set(steps[0]["std"])
        if len(means) == 1 and len(stds) == 1:
            return means.pop(), stds.pop(), True
    black, white = (data["by_image"][k].double().mean().item() for k in ("black", "white"))
    if not white > black:
        fail("a white image does not map to larger values than a black one: ToTensor scales pixels 0..255 to "
             "[0, 1], and Normalize with a positive std keeps their order")
    std = 1.0 / (white - black)
    return -black * std, std, False


@graded("get_transform")
def test_transform_shape(transformed):
    """maps a 28 x 28 PIL digit to a float32 tensor of shape (1, 28, 28)"""
    for key, output in transformed["by_image"].items():
        expect_tensor(output, (1, 28, 28), what=f"the transform's output for a {key} 28 x 28 image",
                      hint="transforms.ToTensor() gives (channels, height, width) = (1, 28, 28) for a grey image")


@graded("get_transform")
def test_transform_values(transformed):
    """computes (pixel / 255 - mean) / std: ToTensor's scaling to [0, 1], then Normalize"""
    for output in transformed["by_image"].values():
        expect_tensor(output, (1, 28, 28))
    mean, std, from_normalize = normalize_constants(transformed)
    source = "your Normalize's mean and std" if from_normalize else "one mean and std for every pixel"
    for key, image in IMAGES.items():
        expected = ((image.double() / 255 - mean) / std).float().unsqueeze(0)
        value = transformed["by_image"][key]
        if not torch.allclose(value, expected, rtol=1e-4, atol=1e-5):
            fail(f"the output for a {key} image is not (pixel / 255 - mean) / std with {source}: compose exactly "
                 "transforms.ToTensor() then transforms.Normalize(mean, std), with nothing else changing the values")


@graded("get_transform")
def test_transform_positive_mean(transformed):
    """normalizes with a positive mean of [0, 1]-scaled pixels and a positive std"""
    for output in transformed["by_image"].values():
        expect_tensor(output, (1, 28, 28))
    mean, std, from_normalize = normalize_constants(transformed)
    if not from_normalize and abs(mean) < 1e-6 and abs(std - 1) < 1e-6:
        fail("the pixels are scaled to [0, 1] but not normalized: add transforms.Normalize(mean, std) after "
             "ToTensor, with the mean and standard deviation of MNIST's pixels")
    if not std > 0:
        fail(f"the std is {std:.4g}: it must be positive (the standard deviation of the pixels)")
    if not mean > 0:
        fail(f"the mean is {mean:.4g}, not positive: pass the mean pixel value itself (Normalize subtracts it); "
             "a black pixel should map below 0")
    if not mean < 1:
        fail(f"the mean is {mean:.4g}, but ToTensor has already scaled the pixels to [0, 1]: give the mean and std "
             "on that scale, not on 0..255")


# -- build_model -----------------------------------------------------------------------------------------
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


# -- train_model -----------------------------------------------------------------------------------------
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


# -- predict ---------------------------------------------------------------------------------------------
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


# -- confusion_matrix ------------------------------------------------------------------------------------
LIBRARIES = ["sklearn", "torchmetrics"]


def skewed_classes(n: int, c: int, seed: int) -> torch.Tensor:
    """``n`` class labels of ``0 .. c - 1``, class k drawn (k + 1) ** 2 times as often as class 0: uneven classes, so
    that a transposed confusion matrix differs from the right one."""
    weights = torch.arange(1, c + 1, dtype=torch.float64) ** 2
    return torch.multinomial(weights, n, replacement=True, generator=torch.Generator().manual_seed(seed))


def reference_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, c: int) -> torch.Tensor:
    cm = torch.zeros(c, c, dtype=torch.int64)
    return cm.index_put_((y_true, y_pred), torch.ones_like(y_true), accumulate=True)


def expect_matrix(value: object, y_true: torch.Tensor, y_pred: torch.Tensor, c: int, what: str) -> None:
    expected = reference_matrix(y_true, y_pred, c)
    if isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[0] == value.shape[1] != c:
        fail(f"{what} has shape {tuple(value.shape)}, expected ({c}, {c}): size the matrix by num_classes, not by "
             "the labels that happen to occur")
    expect_tensor(value, (c, c), torch.int64, what=what, hint="one row and one column per class")
    if torch.equal(value, expected):
        return
    mistakes = {
        "it looks transposed: rows are the true class, columns the predicted class": expected.T,
        "repeated (true, predicted) pairs were counted once: `cm[y_true, y_pred] += 1` does not add up repeated "
        "index pairs; use index_put_(..., accumulate=True), torch.bincount or a loop": (expected > 0).long(),
    }
    for diagnosis, wrong in mistakes.items():
        if torch.equal(value, wrong):
            fail(f"{what} has the wrong counts: {diagnosis}")
    fail(f"{what} has the wrong counts in {(value != expected).sum().item()} of {c * c} entries: entry [i, j] counts "
         "the examples of true class i predicted as class j")


def confusion(student, y_true: torch.Tensor, y_pred: torch.Tensor, **kwargs: Any) -> Any:
    return student.call("confusion_matrix", y_true, y_pred, **kwargs)


@graded("confusion_matrix")
def test_confusion_counts(student):
    """returns an int64 (C, C) tensor of counts, rows true class, columns predicted class"""
    y_true, y_pred = skewed_classes(300, 6, seed=540), classes(300, 6, seed=541)
    expect_matrix(confusion(student, y_true, y_pred, num_classes=6).value, y_true, y_pred, 6,
                  "confusion_matrix(y_true, y_pred, num_classes=6)")


@graded("confusion_matrix")
def test_confusion_num_classes(student):
    """honours num_classes (default 10), including classes absent from the data"""
    y_true, y_pred = classes(50, 5, seed=542), classes(50, 5, seed=543)
    expect_matrix(confusion(student, y_true, y_pred, num_classes=7).value, y_true, y_pred, 7,
                  "confusion_matrix(y_true, y_pred, num_classes=7) for labels 0..4")
    y_true, y_pred = classes(40, 4, seed=544), classes(40, 4, seed=545)
    expect_matrix(confusion(student, y_true, y_pred).value, y_true, y_pred, 10,
                  "confusion_matrix(y_true, y_pred) (num_classes defaults to 10) for labels 0..3")


@graded("confusion_matrix")
def test_confusion_large(student):
    """counts 10,000 pairs of 10 classes exactly"""
    y_true, y_pred = skewed_classes(10_000, 10, seed=546), classes(10_000, 10, seed=547)
    expect_matrix(confusion(student, y_true, y_pred, num_classes=10).value, y_true, y_pred, 10,
                  "confusion_matrix for 10,000 labels")


@graded("confusion_matrix")
def test_confusion_from_scratch(student):
    """is written from scratch, without sklearn or torchmetrics"""
    student.probe("call_without", "confusion_matrix", args=[classes(30, 3, seed=548), classes(30, 3, seed=549)],
                  kwargs={"num_classes": 3}, libraries=LIBRARIES)


@graded("confusion_matrix")
def test_confusion_inputs_unchanged(student):
    """leaves its inputs unchanged"""
    args = [classes(60, 4, seed=550), classes(60, 4, seed=551)]
    expect_unchanged(confusion(student, *args, num_classes=4), args, "confusion_matrix")


# -- precision_recall_f1 ---------------------------------------------------------------------------------
FULL = reference_matrix(skewed_classes(400, 5, seed=560), classes(400, 5, seed=561), 5)
# class 1 never predicted; class 3 neither present nor predicted; class 5 present and predicted but never right;
# class 6 predicted but never present
SPARSE = torch.tensor([[5, 0, 2, 0, 1, 1, 0],
                       [1, 0, 3, 0, 0, 0, 1],
                       [0, 0, 4, 0, 2, 1, 0],
                       [0, 0, 0, 0, 0, 0, 0],
                       [2, 0, 1, 0, 6, 0, 1],
                       [1, 0, 0, 0, 2, 0, 0],
                       [0, 0, 0, 0, 0, 0, 0]])
METRICS = ("precision", "recall", "f1")


def divide_or_zero(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    return torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(num))


def reference_metrics(cm: torch.Tensor) -> dict[str, torch.Tensor]:
    cm = cm.double()
    tp = cm.diag()
    precision, recall = divide_or_zero(tp, cm.sum(0)), divide_or_zero(tp, cm.sum(1))
    f1 = divide_or_zero(2 * precision * recall, precision + recall)
    return {"precision": precision.float(), "recall": recall.float(), "f1": f1.float()}


def metrics(student, cm: torch.Tensor) -> dict[str, torch.Tensor]:
    """precision_recall_f1(cm) as {"precision", "recall", "f1"}, each checked to be float32 (C,)."""
    value = student.call("precision_recall_f1", cm).value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        extra = f" of {len(value)} items" if isinstance(value, (tuple, list)) else ""
        fail(f"precision_recall_f1 returned {a_kind(value)}{extra}, expected a tuple (precision, recall, f1)")
    c = cm.shape[0]
    for name, v in zip(METRICS, value):
        expect_tensor(v, (c,), what=f"the {name} of a {c}-class matrix", hint="one value per class")
    return dict(zip(METRICS, value))


def expect_metric(got: dict, expected: dict, name: str, what: str, mistakes: dict[str, torch.Tensor]) -> None:
    value = got[name]
    if torch.isnan(value).any():
        fail(f"{what}: the {name} contains NaN: where a value is 0 / 0, return 0 (e.g. torch.where with a safe "
             "denominator)")
    expect_close(value, expected[name], rtol=1e-4, atol=1e-6, what=f"{what}: the {name}", mistakes=mistakes)


@graded("precision_recall_f1")
def test_metrics_types(student):
    """returns a tuple (precision, recall, f1) of float32 tensors of shape (C,)"""
    metrics(student, FULL)
    metrics(student, SPARSE)


@graded("precision_recall_f1")
def test_metrics_precision(student):
    """precision is the diagonal over the column sums (the predictions of each class)"""
    expected = reference_metrics(FULL)
    expect_metric(metrics(student, FULL), expected, "precision", "for a 5-class matrix", mistakes={
        "it looks like the recall: precision divides by the column sums (how often each class was predicted)":
            expected["recall"]})


@graded("precision_recall_f1")
def test_metrics_recall(student):
    """recall is the diagonal over the row sums (the examples of each class)"""
    expected = reference_metrics(FULL)
    expect_metric(metrics(student, FULL), expected, "recall", "for a 5-class matrix", mistakes={
        "it looks like the precision: recall divides by the row sums (how many examples each class has)":
            expected["precision"]})


@graded("precision_recall_f1")
def test_metrics_f1(student):
    """F1 is the harmonic mean of precision and recall"""
    got, expected = metrics(student, FULL), reference_metrics(FULL)
    p, r = expected["precision"], expected["recall"]
    expect_metric(got, expected, "f1", "for a 5-class matrix", mistakes={
        "it looks like the arithmetic mean: F1 = 2 * precision * recall / (precision + recall)": (p + r) / 2,
        "the factor 2 is missing: F1 = 2 * precision * recall / (precision + recall)": p * r / (p + r)})


@graded("precision_recall_f1")
def test_metrics_undefined(student):
    """is 0, never NaN, for classes never predicted or never present"""
    got, expected = metrics(student, SPARSE), reference_metrics(SPARSE)
    for name in METRICS:
        expect_metric(got, expected, name, "for a matrix with empty rows and columns", mistakes={})


@graded("precision_recall_f1")
def test_metrics_input_unchanged(student):
    """leaves the matrix unchanged"""
    cm = SPARSE.clone()
    expect_unchanged(student.call("precision_recall_f1", cm), [cm], "precision_recall_f1")


# -- checkpoint (save_checkpoint and load_checkpoint) ---------------------------------------------------
CHECKPOINT_SPEC = [["conv2d", 1, 4, 5], ["batchnorm2d", 4], ["relu"], ["maxpool2d", 4], ["flatten"], ["dropout", 0.5],
                   ["linear", 144, 10]]
CHECKPOINT_STATE = random_state(CHECKPOINT_SPEC, seed=570)
CHECKPOINT_INPUTS = randn(5, 1, 28, 28, seed=571)


@pytest.fixture(scope="module")
def checkpointed(student) -> dict:
    """save_checkpoint then load_checkpoint of a small CNN with batch norm, build_model building that CNN."""
    return student.probe("checkpoint_run", "checkpoint", spec=CHECKPOINT_SPEC, state=CHECKPOINT_STATE,
                         inputs=CHECKPOINT_INPUTS)


def expect_stage(data: dict, stage: str) -> None:
    """Fail if save_checkpoint (or, for stage "load_checkpoint", either) raised."""
    if data["error"] is not None and (stage == "load_checkpoint" or data["stage"] == "save_checkpoint"):
        call = "save_checkpoint(model, path)" if data["stage"] == "save_checkpoint" else "load_checkpoint(path)"
        fail(f"{call} raised {data['error']}")


@graded("checkpoint")
def test_checkpoint_file(checkpointed):
    """save_checkpoint writes the model's state dict, readable by torch.load(path, weights_only=True)"""
    expect_stage(checkpointed, "save_checkpoint")
    file = checkpointed["file"]
    if not file["exists"]:
        fail("save_checkpoint(model, path) wrote no file at path: save to the path it is given")
    if not file["readable"]:
        fail(f"torch.load(path, weights_only=True) cannot read the file (it raised {file['error']}): save "
             "model.state_dict(), "
             "not the model object (torch.save(model) pickles code, which weights_only refuses)")
    if "entries" not in file:
        fail(f"the file holds {a_class(file['class'])}, expected the model's state dict: "
             "torch.save(model.state_dict(), path)")
    expected = build(CHECKPOINT_SPEC, CHECKPOINT_STATE).state_dict()
    missing = [k for k in expected if k not in file["entries"]]
    if missing:
        fail(f"the saved dict lacks {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}: save "
             "model.state_dict() itself (it holds the parameters and the buffers, such as BatchNorm's running "
             "statistics)")
    extra = [k for k in file["entries"] if k not in expected]
    if extra:
        fail(f"the saved dict has entries that are not in model.state_dict() ({', '.join(extra[:4])}): save "
             "model.state_dict() itself")
    for key, value in expected.items():
        got = file["entries"][key]
        if not (isinstance(got, torch.Tensor) and got.shape == value.shape and torch.equal(got, value)):
            fail(f"the saved {key} differs from the model's: save model.state_dict()")


@graded("checkpoint")
def test_checkpoint_rebuilds(checkpointed):
    """load_checkpoint returns a new nn.Module built by build_model()"""
    expect_stage(checkpointed, "load_checkpoint")
    if not checkpointed["module"]:
        fail(f"load_checkpoint(path) returned {a_class(checkpointed['loaded'])}, expected the model (an nn.Module)")
    if not checkpointed["from_build_model"]:
        fail("load_checkpoint(path) did not return a model made by build_model(): rebuild the model with "
             "build_model(), then copy the saved tensors in with model.load_state_dict(...)")


@graded("checkpoint")
def test_checkpoint_round_trip(checkpointed):
    """the loaded model gives exactly the saved model's outputs"""
    expect_stage(checkpointed, "load_checkpoint")
    if "outputs" not in checkpointed:
        fail(f"load_checkpoint(path) returned {a_class(checkpointed['loaded'])}, expected the model (an nn.Module)")
    saved, loaded = checkpointed["outputs"]["saved"], checkpointed["outputs"]["loaded"]
    if not (isinstance(loaded, torch.Tensor) and loaded.shape == saved.shape and torch.equal(loaded, saved)):
        fail("the loaded model's outputs differ from the saved model's (both in eval mode): load the saved state dict "
             "into the new model with model.load_state_dict(torch.load(path, weights_only=True))")


# -- split_train_val -------------------------------------------------------------------------------------
FRACTIONS = (0.1, 0.25, 0.5)
SPLIT_CALLS = {
    37: [{"val_fraction": f, "seed": 0} for f in FRACTIONS],
    1000: [{"val_fraction": 0.1, "seed": 0}, {"val_fraction": 0.1, "seed": 0}, {"val_fraction": 0.1, "seed": 1},
           {}, {"val_fraction": 0.25, "seed": 3}, {"val_fraction": 0.5, "seed": 4}],
}


# datasets so small, or fractions so low, that val holds 0, 1 or 2 items (round(0.5) and round(2.5) included)
SMALL_CALLS = {10: [{"val_fraction": f, "seed": 0} for f in (0.15, 0.25, 0.0, 0.04, 0.05)], 1: [{}]}


def run_splits(student, calls_by_size: dict[int, list[dict]]) -> dict[int, list[dict]]:
    """For each dataset size n, split_train_val(TensorDataset(arange(n)), **kwargs) for each of its kwargs."""
    out = {n: student.probe("split_run", "split_train_val", n=n, calls=calls)["splits"]
           for n, calls in calls_by_size.items()}
    for n, results in out.items():
        for kwargs, result in zip(calls_by_size[n], results):
            if not result["pair"]:
                fail(f"split_train_val(dataset, {call_text(kwargs)}) returned {a_class(result['class'])}"
                     + (f" of {result['length']} items" if result["length"] is not None else "")
                     + ", expected a tuple (train, val)")
    return out


@pytest.fixture(scope="module")
def splits(student) -> dict[int, list[dict]]:
    """For each dataset size, split_train_val(TensorDataset(arange(n)), **kwargs) for each kwargs above."""
    return run_splits(student, SPLIT_CALLS)


@pytest.fixture(scope="module")
def small_splits(student) -> dict[int, list[dict]]:
    return run_splits(student, SMALL_CALLS)


def call_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def items(result: dict, part: str, kwargs: dict) -> torch.Tensor:
    """The dataset indices of the items of ``part``, read by indexing the part."""
    values = result[part]["values"]
    if values is None:
        fail(f"the {part} part of split_train_val(dataset, {call_text(kwargs)}) cannot be indexed like a dataset "
             f"({result[part].get('error', '')}): return torch.utils.data.Subset(dataset, indices) objects")
    return values


def split_sets(result: dict, kwargs: dict) -> tuple[set[int], set[int]]:
    return set(items(result, "train", kwargs).tolist()), set(items(result, "val", kwargs).tolist())


@graded("split_train_val")
def test_split_subsets(splits):
    """returns a tuple (train, val) of two torch.utils.data.Subset objects of the dataset"""
    for n, results in splits.items():
        for kwargs, result in zip(SPLIT_CALLS[n], results):
            for part in ("train", "val"):
                if not result[part]["subset"]:
                    fail(f"the {part} part is {a_class(result[part]['class'])}, expected a torch.utils.data.Subset "
                         "of the dataset: Subset(dataset, indices)")
                if not result[part]["of_dataset"]:
                    fail(f"the {part} part is a Subset of another dataset: build it on the dataset you were given")


@graded("split_train_val")
def test_split_disjoint_cover(splits):
    """train and val are disjoint and together hold every item once"""
    for n, results in splits.items():
        for kwargs, result in zip(SPLIT_CALLS[n], results):
            train, val = items(result, "train", kwargs), items(result, "val", kwargs)
            what = f"for a dataset of {n} items and {call_text(kwargs) or 'the defaults'}"
            shared = set(train.tolist()) & set(val.tolist())
            if shared:
                fail(f"train and val share {len(shared)} item(s) {what}: split one permutation of the indices into "
                     "two parts that do not overlap")
            if len(train) + len(val) != n or set(train.tolist()) | set(val.tolist()) != set(range(n)):
                fail(f"train and val together hold {len(train) + len(val)} items, not each of the {n} items once, "
                     f"{what}: every index goes to exactly one part")


@pytest.mark.parametrize("fraction", FRACTIONS)
@graded("split_train_val")
def test_split_val_size(splits, fraction):
    """val holds round(len(dataset) * val_fraction) items for val_fraction={fraction}"""
    for n, results in splits.items():
        for kwargs, result in zip(SPLIT_CALLS[n], results):
            if kwargs.get("val_fraction") != fraction:
                continue
            size, expected = len(items(result, "val", kwargs)), round(n * fraction)
            if size != expected:
                fail(f"val has {size} items for a dataset of {n} items and val_fraction={fraction}; it should hold "
                     f"round({n} * {fraction}) items{size_mistake(n, fraction, size)}")


def size_mistake(n: int, fraction: float, size: int) -> str:
    """Why val may hold ``size`` items rather than round(n * fraction), as a clause to append; "" if unknown."""
    expected = round(n * fraction)
    if size == int(n * fraction):
        return ": int() truncates; use round()"
    if expected == 0 and size == n:
        return (": when round(n * val_fraction) is 0, the slice perm[-n_val:] is perm[-0:], the whole permutation "
                "(and perm[:-n_val] is empty); take val = perm[:n_val] and train = perm[n_val:]")
    if size == n - expected:
        return ": train and val look swapped (return (train, val), val the part of size val_fraction)"
    if expected == 0:
        return ": val is empty when round(len(dataset) * val_fraction) is 0; do not force it to hold items"
    return ""


@graded("split_train_val")
def test_split_small(small_splits):
    """puts round(len(dataset) * val_fraction) items in val when that is 0, 1 or 2, the rest in train"""
    for n, results in small_splits.items():
        for kwargs, result in zip(SMALL_CALLS[n], results):
            train, val = split_sets(result, kwargs)
            fraction = kwargs.get("val_fraction", 0.1)
            size, expected = len(items(result, "val", kwargs)), round(n * fraction)
            what = f"for a dataset of {n} item(s) and {call_text(kwargs) or 'the defaults'}"
            if size != expected:
                fail(f"val has {size} item(s) {what}; it should hold round({n} * {fraction}) items (Python's "
                     f"round){size_mistake(n, fraction, size)}")
            if train & val or len(items(result, "train", kwargs)) + size != n or train | val != set(range(n)):
                fail(f"train and val do not hold each item exactly once {what}: every index goes to exactly one part")


def same_split(a: dict, b: dict, kwargs: dict) -> bool:
    return split_sets(a, kwargs) == split_sets(b, kwargs)


@graded("split_train_val")
def test_split_same_seed(splits):
    """gives the same split for the same seed"""
    first, second = splits[1000][0], splits[1000][1]
    if not same_split(first, second, SPLIT_CALLS[1000][0]):
        fail("two calls with seed=0 gave different splits: draw the permutation from a private generator, "
             "torch.randperm(n, generator=torch.Generator().manual_seed(seed))")


@graded("split_train_val")
def test_split_other_seed(splits):
    """gives different splits for different seeds"""
    if same_split(splits[1000][0], splits[1000][2], SPLIT_CALLS[1000][0]):
        fail("seed=0 and seed=1 gave the same split: seed the random permutation with the seed argument")


@graded("split_train_val")
def test_split_defaults(splits):
    """uses val_fraction=0.1 and seed=0 by default"""
    if not same_split(splits[1000][3], splits[1000][0], SPLIT_CALLS[1000][0]):
        fail("split_train_val(dataset) differs from split_train_val(dataset, val_fraction=0.1, seed=0): keep the "
             "defaults val_fraction=0.1 and seed=0")
