"""The hidden checks of SimpleNet."""
from __future__ import annotations

import torch

from autograder.check import StudentRaised, expect_close, expect_tensor, fail, graded, randn, reraise_with_hint

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
