"""Hidden checks for 03_training_loop.

train_one_epoch, evaluate and fit run in the sandbox on small models, loaders and optimizers that the
harness builds from the data below (see harness/assignments/03_training_loop.py); the references run here on identical
copies. fit is graded with train_one_epoch and evaluate replaced by stubs, so a mistake in either is
charged to that name only.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.check import (StudentRaised, a_class, close, expect_close, expect_eval_mode, expect_float,
                              expect_model_called, expect_no_grad, expect_number, expect_tensor, fail, flat, graded,
                              kind_of, randn, reraise_with_hint)
from autograder.harness.functions import FUNCTIONS, function
from autograder.harness.probes import build

TOL = {"rtol": 1e-4, "atol": 1e-5}  # how close parameters and recorded numbers must come to the grader's run


# -- SimpleNet ---------------------------------------------------------------------------------
SIZES = (20, 7, 3)  # in, hidden, out: all different, so each parameter is known by its shape
FLATTEN_HINT = "flatten each input to (N, in_features) first, e.g. with nn.Flatten()"
SIZES_HINT = "build the layers from in_features, hidden and out_features (not fixed sizes), and " + FLATTEN_HINT


def network(student, sizes: tuple[int, ...], inputs: list[torch.Tensor], hint: str = "") -> dict:
    """``SimpleNet(*sizes)`` built in the sandbox: its parameters and its outputs for ``inputs``."""
    try:
        data = student.probe("network", "SimpleNet", sizes=list(sizes), inputs=inputs)
    except StudentRaised as exc:
        reraise_with_hint(exc, hint)
    if not data["module"]:
        fail(f"SimpleNet{sizes} is a {data['class']}, expected an nn.Module: subclass nn.Module")
    return data


def listing(parameters: dict[str, torch.Tensor]) -> str:
    return ", ".join(f"{n} {tuple(p.shape)}" for n, p in parameters.items()) or "none"


@graded("SimpleNet")
def test_simplenet_default_shapes(student):
    """with the default sizes, maps (N, 1, 28, 28) images and (N, 784) vectors to float32 logits (N, 10)"""
    images = randn(5, 1, 28, 28, seed=1)
    outputs = network(student, (), [images, images.reshape(5, 784)], hint=FLATTEN_HINT)["outputs"]
    logits = expect_tensor(outputs[0], (5, 10), what="SimpleNet()(x) for x of shape (5, 1, 28, 28)",
                           hint="one row of 10 logits per image")
    expect_tensor(outputs[1], (5, 10), what="SimpleNet()(x) for x of shape (5, 784)")
    expect_close(outputs[1], logits, rtol=1e-5, atol=1e-6, what="SimpleNet()(x) for the same images shaped (5, 784)",
                 hint=FLATTEN_HINT)


@graded("SimpleNet")
def test_simplenet_uses_sizes(student):
    """built as SimpleNet(20, 7, 3), maps (N, 20) vectors and (N, 1, 4, 5) images to logits (N, 3)"""
    x = randn(6, 20, seed=2)
    outputs = network(student, SIZES, [x, x.reshape(6, 1, 4, 5)], hint=SIZES_HINT)["outputs"]
    logits = expect_tensor(outputs[0], (6, 3), what="SimpleNet(20, 7, 3)(x) for x of shape (6, 20)", hint=SIZES_HINT)
    expect_close(outputs[1], logits, rtol=1e-5, atol=1e-6, what="SimpleNet(20, 7, 3)(x) for the same data shaped "
                 "(6, 1, 4, 5)", hint=FLATTEN_HINT)


@graded("SimpleNet")
def test_simplenet_parameter_count(student):
    """has exactly in*hidden + hidden + hidden*out + out parameters"""
    for sizes, (n_in, hidden, out) in (((), (784, 128, 10)), (SIZES, SIZES)):
        parameters = network(student, sizes, [])["parameters"]
        count, exact = sum(p.numel() for p in parameters.values()), n_in * hidden + hidden + hidden * out + out
        if count != exact:
            why = ("the biases are missing: keep nn.Linear's default bias=True" if count == exact - hidden - out
                   else "it should hold the two nn.Linear layers and nothing else")
            fail(f"SimpleNet{sizes} has {count:,} parameters ({listing(parameters)}), not "
                 f"in*hidden + hidden + hidden*out + out: {why}")


@graded("SimpleNet")
def test_simplenet_forward(student):
    """computes Linear -> ReLU -> Linear on the flattened input and returns raw logits"""
    x = randn(6, 20, seed=3, scale=2.0)
    data = network(student, SIZES, [x])
    n_in, hidden, out = SIZES
    shapes = [(hidden, n_in), (hidden,), (out, hidden), (out,)]
    found = [[p for p in data["parameters"].values() if tuple(p.shape) == shape] for shape in shapes]
    if len(data["parameters"]) != 4 or any(len(f) != 1 for f in found):
        fail(f"SimpleNet(20, 7, 3) should hold the weights and biases of exactly two layers, nn.Linear(20, 7) and "
             f"nn.Linear(7, 3); it has {listing(data['parameters'])}")
    w1, b1, w2, b2 = (f[0] for f in found)
    before_relu = x @ w1.T + b1
    logits = before_relu.relu() @ w2.T + b2
    expect_close(data["outputs"][0], logits, rtol=1e-4, atol=1e-5, what="SimpleNet(20, 7, 3)(x)", mistakes={
        "it looks like the ReLU between the two Linear layers is missing": before_relu @ w2.T + b2,
        "return the raw logits: no ReLU after the last layer": logits.relu(),
        "return the raw logits: no softmax (nn.CrossEntropyLoss applies it)": logits.softmax(1),
        "return the raw logits: no log_softmax": logits.log_softmax(1)})


# -- make_optimizer ----------------------------------------------------------------------------
OPTIMIZERS = {"sgd": (torch.optim.SGD, {}), "momentum": (torch.optim.SGD, {"momentum": 0.9}),
              "rmsprop": (torch.optim.RMSprop, {}), "adam": (torch.optim.Adam, {})}
KINDS = [("sgd", "torch.optim.SGD without momentum"), ("momentum", "torch.optim.SGD with momentum=0.9"),
         ("rmsprop", "torch.optim.RMSprop with its default settings"),
         ("adam", "torch.optim.Adam with its default settings")]
LR, STEPS, LOSS = 0.03, 5, "quartic"
START = randn(4, seed=4)


def reference_path(kind: str) -> torch.Tensor:
    """The parameter after each of ``STEPS`` steps of torch's own optimizer on ``LOSS``."""
    cls, settings = OPTIMIZERS[kind]
    param = nn.Parameter(START.clone())
    optimizer = cls([param], lr=LR, **settings)
    path = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        FUNCTIONS[LOSS](param).backward()
        optimizer.step()
        path.append(param.detach().clone())
    return torch.stack(path)


def optimizer_steps(student, kind: str, steps: int = STEPS) -> dict:
    """make_optimizer(kind, params, lr) in the sandbox, ``params`` a generator: its settings and ``steps`` steps."""
    return student.probe("optimizer_steps", "make_optimizer", kind=kind, lr=LR, start=START, loss=function(LOSS),
                         steps=steps)


@pytest.mark.parametrize("kind,description", KINDS, ids=[k for k, _ in KINDS])
@graded("make_optimizer")
def test_optimizer_kind(student, kind, description):
    """{kind!r} builds {description}"""
    call = f"make_optimizer({kind!r}, params, lr={LR})"
    try:
        data = optimizer_steps(student, kind)
    except StudentRaised as exc:
        if "empty parameter list" in str(exc):
            fail(f"{exc}: params may be a generator such as model.parameters(), which can be read only once; "
                 "build only the optimizer that name asks for")
        raise
    cls, settings = OPTIMIZERS[kind]
    if data["class"] != cls.__name__:
        fail(f"{call} returned {a_class(data['class'])}, expected {description}")
    if data["given"] != [[True]]:
        fail(f"{call} does not optimise exactly the params it is given: pass params straight to the optimizer "
             "(they may be a generator such as model.parameters(), which can be read only once)")
    group = data["groups"][0]
    for key, value in cls([nn.Parameter(START.clone())], lr=LR, **settings).param_groups[0].items():
        if key != "params" and group.get(key) != value:
            fail(f"{call} has {key}={group.get(key)!r}: " +
                 ("pass lr on to the optimizer" if key == "lr" else f"{kind!r} means {description}"))
    expect_close(torch.stack(data["path"]), reference_path(kind), rtol=1e-5, atol=1e-6,
                 what=f"the parameters after each of {STEPS} steps of {call}")


@graded("make_optimizer")
def test_optimizer_unknown_name(student):
    """raises ValueError for an unknown name"""
    for kind in ("adagrad", "nesterov"):
        try:
            data = optimizer_steps(student, kind, steps=0)
        except StudentRaised as exc:
            if exc.exc_type != "ValueError":
                fail(f"make_optimizer({kind!r}, params, lr) should raise ValueError; instead: {exc}")
        else:
            fail(f"make_optimizer({kind!r}, params, lr) returned {a_class(data['class'])}: raise ValueError for any "
                 "name other than 'sgd', 'momentum', 'rmsprop' or 'adam'")


# -- the models, data and references of train_one_epoch, evaluate and fit --------------------------
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


# -- train_one_epoch -----------------------------------------------------------------------------
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


# -- evaluate ----------------------------------------------------------------------------------
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


# -- fit -----------------------------------------------------------------------------------------
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
