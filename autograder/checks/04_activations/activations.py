"""The hidden checks of relu, sigmoid and tanh and of their derivatives relu_grad, sigmoid_grad and tanh_grad:
most checks run for each of the six names."""
from typing import Any

import pytest
import torch

from autograder.check import CheckFailed, StudentRaised, expect_close, expect_unchanged, graded

from . import CARRY_FORWARD
from ._common import ACTIVATIONS, ATOL, REFERENCE, Fn, agrees, modifies, random_x

PARAMS = {name: pytest.param(name, marks=graded(name), id=name) for name in REFERENCE}
ALL_SIX = list(PARAMS.values())
GRADS = [PARAMS[name] for name in ("relu_grad", "sigmoid_grad", "tanh_grad")]

# Root op names (see harness/forbid.py op_name) that compute each activation, by any path
# (torch, F, tensor methods, nn modules, torch.special, torch.ops.aten, the aten kernels).
SHORTCUTS = {
    "relu": ("relu", "relu6", "threshold", "hardtanh", "leaky_relu", "elu", "prelu", "rrelu"),
    "sigmoid": ("sigmoid", "expit", "log_sigmoid", "log_sigmoid_forward"),
    "tanh": ("tanh", "tanhshrink"),
}
NUMPY = ("numpy", "array")  # x.numpy() and np.* applied to a tensor
ACTIVATION_SHORTCUTS = sum(SHORTCUTS.values(), ()) + NUMPY
AUTOGRAD = ("backward", "grad", "make_dual", "threshold_backward", "sigmoid_backward", "tanh_backward")
DERIVATIVE_SHORTCUTS = ACTIVATION_SHORTCUTS + AUTOGRAD

# sigmoid_grad and tanh_grad usually reuse the student's sigmoid and tanh: a mistake there is
# charged to sigmoid or tanh only, never again to the derivative (error carried forward, CARRY_FORWARD).
FORMULA: dict[str, Fn] = {"sigmoid_grad": lambda s: s * (1 - s), "tanh_grad": lambda t: 1 - t * t}
BUILT_ON: dict[str, tuple[str, Fn]] = {name: (CARRY_FORWARD[name][0], FORMULA[name]) for name in FORMULA}

EXTREMES = [-1000.0, -100.0, -88.8, -20.0, -1.0, -1e-30, 0.0, 1e-30, 1e-8, 1.0, 20.0, 88.8, 100.0, 1000.0]


def mistakes(name: str, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What common mistakes return, by diagnosis."""
    s, t = torch.sigmoid(x), torch.tanh(x)
    return {
        "relu": {"it looks like the sign is flipped: relu(x) is max(0, x)": torch.relu(-x),
                 "negative entries must become 0, not their absolute value": x.abs(),
                 "it looks like x is returned unchanged": x},
        "sigmoid": {"the sign of the exponent is flipped: sigmoid(x) = 1 / (1 + exp(-x))": torch.sigmoid(-x),
                    "this looks like tanh, not sigmoid": t},
        "tanh": {"this looks like sigmoid, not tanh": s,
                 "a factor 2 is missing: tanh(x) = 2 * sigmoid(2x) - 1": 2 * s - 1},
        "relu_grad": {"this is relu(x) itself, not its derivative": torch.relu(x),
                      "the derivative at 0 must be 0: the result is 1 only where x > 0": (x >= 0).to(x.dtype),
                      "the derivative is 0, not -1, where x < 0": torch.sign(x),
                      "the derivative is 1 where x > 0 and 0 elsewhere (yours looks reversed)": (x < 0).to(x.dtype)},
        "sigmoid_grad": {"this is sigmoid(x) itself, not its derivative": s,
                         "the derivative is s * (1 - s), not s * (1 + s)": s * (1 + s),
                         "1 - s**2 is tanh's pattern: sigmoid's derivative is s * (1 - s)": 1 - s * s,
                         "this looks like the derivative of tanh, not sigmoid": 1 - t * t},
        "tanh_grad": {"this is tanh(x) itself, not its derivative": t,
                      "the derivative is 1 - tanh(x)**2, not 1 - x**2": 1 - x * x,
                      "the square is missing: the derivative is 1 - tanh(x)**2": 1 - t,
                      "this looks like the derivative of sigmoid, not tanh": s * (1 - s)},
    }[name]


def carried_forward(student, name: str, x: torch.Tensor, value: Any) -> bool:
    """``value`` is what ``name``'s formula gives on the student's own activation, itself wrong on ``x``."""
    if name not in BUILT_ON:
        return False
    base, formula = BUILT_ON[name]
    try:
        own = student.call(base, x).value
    except CheckFailed:
        return False
    return (isinstance(own, torch.Tensor) and not agrees(own, REFERENCE[base](x))
            and agrees(value, formula(own)))


def expect_elementwise(student, name: str, x: torch.Tensor, what: str, hint: str = "") -> None:
    """``name(x)`` equals the reference in shape, dtype and values, to ``ATOL``."""
    value = student.call(name, x).value
    try:
        expect_close(value, REFERENCE[name](x), rtol=0, atol=ATOL, what=what, hint=hint,
                     mistakes=mistakes(name, x))
    except CheckFailed:
        if not carried_forward(student, name, x, value):
            raise


def described(name: str) -> str:
    return f"the derivative of torch.{name.removesuffix('_grad')}" if name.endswith("_grad") else f"torch.{name}"


@pytest.mark.parametrize("name", ALL_SIX)
def test_matches(student, name):
    """matches PyTorch on random inputs"""
    expect_elementwise(student, name, random_x(4, 7, seed=1), f"{name}(x) for a random (4, 7) x, compared "
                       f"with {described(name)},")


@pytest.mark.parametrize("name", ALL_SIX)
def test_shapes_and_dtypes(student, name):
    """keeps the shape and dtype of 1-D and 3-D, float32 and float64 inputs"""
    for seed, shape, dtype in [(2, (2, 3, 4), torch.float64), (3, (7,), torch.float32), (4, (3, 1, 5), torch.float32),
                               (5, (6, 2), torch.float64)]:
        expect_elementwise(student, name, random_x(*shape, seed=seed, dtype=dtype), f"{name}(x) for a {dtype} x of "
                           f"shape {shape}", hint="the result has one entry per entry of x")


@pytest.mark.parametrize("name", ALL_SIX)
def test_extremes(student, name):
    """stays finite and exact for entries up to +-1000, at 0 and for tiny entries"""
    for dtype in (torch.float32, torch.float64):
        expect_elementwise(student, name, torch.tensor(EXTREMES, dtype=dtype), f"{name}(x) for {dtype} entries "
                           "from -1000 to 1000 (0 and +-1e-30 included)",
                           hint="only ever exponentiate a non-positive number, e.g. exp(-|x|)")


@graded("relu_grad")
def test_relu_grad_at_zero(student):
    """is 0 at 0 and exact on either side of it"""
    x = torch.tensor([0.0, -0.0, 1e-30, -1e-30, 1e-38, -1e-38, 5.0, -5.0])
    expect_elementwise(student, "relu_grad", x, "relu_grad(x) at and right next to 0",
                       hint="use 0 at x == 0, as PyTorch does: the result is 1 only where x > 0")


def refused(student, name: str, x: torch.Tensor, forbid: tuple[str, ...]) -> bool:
    """Calling ``name(x)`` reaches one of ``forbid``."""
    try:
        student.call(name, x, forbid=forbid)
    except StudentRaised as exc:
        return exc.exc_type == "ForbiddenCall"
    except CheckFailed:
        return False
    return False


def expect_from_scratch(student, name: str, x: torch.Tensor, forbid: tuple[str, ...]) -> None:
    """``name(x)`` runs without ``forbid``; shortcuts inside the student's other activations count there only."""
    try:
        student.call(name, x, forbid=forbid)
    except StudentRaised as exc:
        if exc.exc_type != "ForbiddenCall":
            raise
        excused = {op for base in ACTIVATIONS if base != name and refused(student, base, x, ACTIVATION_SHORTCUTS)
                   for op in SHORTCUTS[base] + NUMPY}
        if not excused:
            raise
        student.call(name, x, forbid=tuple(op for op in forbid if op not in excused))


def scratch_input() -> torch.Tensor:
    return torch.cat([random_x(10, seed=6), torch.tensor(EXTREMES)]).reshape(4, 6)


@pytest.mark.parametrize("name", [PARAMS[name] for name in ACTIVATIONS])
def test_activation_from_scratch(student, name):
    """is written from scratch, without PyTorch's activation functions"""
    expect_from_scratch(student, name, scratch_input(), ACTIVATION_SHORTCUTS)


@pytest.mark.parametrize("name", GRADS)
def test_derivative_from_scratch(student, name):
    """is written from scratch, without PyTorch's activation functions or autograd"""
    expect_from_scratch(student, name, scratch_input(), DERIVATIVE_SHORTCUTS)


@pytest.mark.parametrize("name", ALL_SIX)
def test_input_unchanged(student, name):
    """leaves its input unchanged"""
    x = random_x(5, 3, seed=7)
    call = student.call(name, x)
    try:
        expect_unchanged(call, [x], name)
    except CheckFailed:
        if not (name in BUILT_ON and modifies(student, BUILT_ON[name][0], x)):
            raise
